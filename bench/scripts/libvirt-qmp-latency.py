#!/usr/bin/python3
"""query-status round trips through libvirt, as the bench's libvirt contender for QMP latency.

  libvirt-qmp-latency.py URI DOMAIN CALLS

One open connection, CALLS/5 warm-up calls, then CALLS timed calls of
libvirt_qemu.qemuMonitorCommand(dom, '{"execute":"query-status"}', 0).
Prints one line: "<p50 us> <p99 us>" (nearest rank). Run with the distro python (it has python3-libvirt).
"""
import sys
import time

import libvirt
import libvirt_qemu

uri, name, calls = sys.argv[1], sys.argv[2], int(sys.argv[3])
libvirt.registerErrorHandler(lambda *_: None, None)
conn = libvirt.open(uri)
dom = conn.lookupByName(name)
cmd = '{"execute":"query-status"}'
for _ in range(max(20, calls // 5)):
    libvirt_qemu.qemuMonitorCommand(dom, cmd, 0)
lat = []
for _ in range(calls):
    t = time.perf_counter_ns()
    out = libvirt_qemu.qemuMonitorCommand(dom, cmd, 0)
    lat.append(time.perf_counter_ns() - t)
if '"status"' not in out:
    sys.exit("unexpected reply: " + out)
conn.close()
lat.sort()
# Same ranks as io.qvirt.qmp.bench.QmpBench: index n*0.50 and n*0.99.
p50 = lat[int(len(lat) * 0.50)] / 1000.0
p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] / 1000.0
print("%.1f %.1f" % (p50, p99))
