package io.qvirt.kvmprobe;

/**
 * How one smoke guest ran under KVM.
 *
 * @param name       {@code real-mode} or {@code long-mode}
 * @param passed     the guest reported success and halted
 * @param outcome    a stable tag: {@code passed}, {@code guest-failure} (a check in the guest failed),
 *                   {@code emulation-failure}, {@code internal-error}, {@code fail-entry}, {@code shutdown}
 *                   (triple fault), {@code mmio} (touched unmapped memory), {@code timeout},
 *                   {@code unexpected-exit}, {@code setup-error} (an ioctl before the first run failed)
 * @param detail     one line for humans
 * @param lastStage  the last stage the guest reported on port 0x80 (0 = none)
 * @param stageName  what that stage does
 * @param resultCode the code written to port 0xf4, or -1
 * @param rip        the guest RIP when it stopped (-1 if unknown)
 * @param exits      how many times KVM_RUN returned
 * @param millis     wall time of this guest: VM creation, run, teardown
 */
public record SmokeResult(String name, boolean passed, String outcome, String detail, int lastStage,
                          String stageName, int resultCode, long rip, int exits, double millis) {
}
