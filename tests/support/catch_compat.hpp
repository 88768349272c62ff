#pragma once
// The one place that names the Catch2 version. Debian 12 ships Catch2 v2.13 (single header);
// a move to v3 changes only this file (include <catch2/catch_all.hpp> and link Catch2WithMain).
#include <catch2/catch.hpp>
