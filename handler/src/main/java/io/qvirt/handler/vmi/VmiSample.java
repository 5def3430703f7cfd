package io.qvirt.handler.vmi;

import com.fasterxml.jackson.databind.JsonNode;
import io.qvirt.qmp.CpuInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What KubeVirt users chart of one VMI, read without libvirt: vCPU time from the vCPU threads QEMU names
 * ({@code query-cpus-fast}) in {@code /proc}, resident memory of QEMU from {@code /proc}, disk traffic from
 * {@code query-blockstats}. Network byte counters are not here: QEMU 7.2's user-mode network has none to
 * query. A figure that cannot be read (QEMU in another pid namespace, a slow answer) is left out, not zero.
 *
 * @param vcpuSeconds   vCPU index -> CPU seconds of its thread
 * @param residentBytes QEMU's resident memory, or -1
 * @param blockRead     drive -> bytes read
 * @param blockWrite    drive -> bytes written
 */
public record VmiSample(String namespace, String name, String node, Map<String, Double> vcpuSeconds,
                        long residentBytes, Map<String, Long> blockRead, Map<String, Long> blockWrite) {
    private static final long TICKS_PER_SECOND = 100; // USER_HZ on Linux x86

    static VmiSample read(Domain d, String node) {
        String[] nn = d.key.split("/", 2);
        long pid = d.qemuPid();
        Map<String, Double> vcpus = new LinkedHashMap<>();
        Map<String, Long> rd = new LinkedHashMap<>();
        Map<String, Long> wr = new LinkedHashMap<>();
        long rss = -1;
        if (pid > 0 && Files.exists(Path.of("/proc", Long.toString(pid)))) {
            rss = rss(pid);
            try {
                List<CpuInfo> cpus = d.control.qmp().commands().queryCpusFast().get(2, TimeUnit.SECONDS);
                for (CpuInfo c : cpus) {
                    double s = threadSeconds(pid, c.threadId());
                    if (s >= 0) {
                        vcpus.put(Integer.toString(c.cpuIndex()), s);
                    }
                }
            } catch (Exception e) {
                // left out: see the class comment
            }
        }
        try {
            JsonNode stats = d.control.qmp().execute("query-blockstats").get(2, TimeUnit.SECONDS);
            for (JsonNode dev : stats) {
                String drive = dev.path("device").asText("");
                if (drive.isEmpty()) {
                    drive = dev.path("node-name").asText("");
                }
                if (drive.isEmpty() || drive.startsWith("#")) {
                    drive = dev.path("qdev").asText("unknown");
                }
                rd.put(drive, dev.path("stats").path("rd_bytes").asLong());
                wr.put(drive, dev.path("stats").path("wr_bytes").asLong());
            }
        } catch (Exception e) {
            // left out: see the class comment
        }
        return new VmiSample(nn[0], nn[1], node, vcpus, rss, rd, wr);
    }

    private static long rss(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    /** utime + stime of one thread in seconds, or -1. */
    private static double threadSeconds(long pid, long tid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "task", Long.toString(tid), "stat"));
            // Fields after the command name (which may hold spaces) start after the last ')'.
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14 and 15)
            return ticks / (double) TICKS_PER_SECOND;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
