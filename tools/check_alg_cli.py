#!/usr/bin/env python3
# Runs `deltacrit alg` on every entry of tests/data/ref_alg.json and prints the relative error and
# the reported error estimate (usage: python3 tools/check_alg_cli.py [path/to/deltacrit]).
import json,subprocess,math,sys
BIN = sys.argv[1] if len(sys.argv) > 1 else 'build/bin/deltacrit'
d=json.load(open('tests/data/ref_alg.json'))['entries']
for e in d:
    if e.get('expressible') is False or e['k']==3 and 'staircase' in e['id']: continue
    tol={1:1e-8,2:1e-5,3:1e-3}[e['k']]
    r=subprocess.run([BIN,'alg','--link',e['link'],'--noise',e['noise'],'--tol',str(tol),'--format','json'],capture_output=True,text=True)
    if r.returncode not in (0,3): print(e['id'],'FAIL',r.stderr.strip()); continue
    j=json.loads(r.stdout)
    if e['quantity']=='trivial_c': got=j['trivial_gram'][0][0]; est=j['error_estimate']
    else: got=j['delta_alg']; est=j['error_estimate']
    ref=e['value']
    if ref=='inf' or got=='inf': print(e['id'], got, ref); continue
    err=abs(got-ref); print(f"{e['id']:28s} got={got:.12g} ref={ref:.12g} relerr={err/abs(ref) if ref else err:.2e} est={est:.2e} {'OK' if err<=est+1e-13 else 'EST<ERR'} {j['status']} {j['seconds']:.2f}s")
