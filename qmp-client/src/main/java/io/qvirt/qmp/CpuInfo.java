package io.qvirt.qmp;

/**
 * One entry of {@code query-cpus-fast}.
 *
 * @param threadId host thread id of the vCPU (with TCG single-threaded, all share one)
 * @param target   QEMU's target architecture, e.g. {@code x86_64}
 */
public record CpuInfo(int cpuIndex, String qomPath, long threadId, String target) {
}
