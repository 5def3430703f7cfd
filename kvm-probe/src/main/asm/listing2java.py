#!/usr/bin/env python3
"""Turns the GAS listing of smoke.S into the commented hex lines of SmokeGuests.java (dev tool only).
Usage: as --64 -al=smoke.lst smoke.S -o /dev/null && python3 listing2java.py smoke.lst"""
import re, sys
section, out = None, {}
entries = []
for raw in open(sys.argv[1]):
    if raw.startswith('GAS LISTING') or not raw.strip():
        continue
    m = re.match(r'^\s*(\d+)\s([0-9a-f]{4})\s([0-9A-F]+)\s*\t?(.*)$', raw.rstrip('\n'))
    c = re.match(r'^\s*(\d+)\s{6}([0-9A-F]+)\s*$', raw.rstrip('\n'))
    s = re.search(r'\.section\s+\.(\w+)', raw)
    if s:
        section = s.group(1); out[section] = []
        continue
    if m and section:
        out[section].append([m.group(2), m.group(3).lower(), m.group(4).strip()])
    elif c and section and out[section]:
        out[section][-1][1] += c.group(2).lower()
    elif section and re.match(r'^\s*\d+\s+\S', raw):
        label = raw.split('\t', 1)[-1].strip()
        if label.endswith(':'):
            out[section].append([None, None, label])
for sec, rows in out.items():
    print(f'    // ---- {sec}')
    for off, hx, src in rows:
        if hx is None:
            print(f'            // {src}')
        else:
            src = re.sub(r'\s+', ' ', src).replace('\\', '\\\\')
            print(f'            + "{hx}" // {off}: {src}')
