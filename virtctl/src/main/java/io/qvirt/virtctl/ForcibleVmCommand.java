package io.qvirt.virtctl;

import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * What {@code virtctl stop} and {@code restart} share, as KubeVirt's do: the VM, {@code --grace-period} that only
 * goes with {@code --force}, {@code --dry-run}, and one {@code PUT} of the VM's subresource. Subclasses name the
 * subresource, KubeVirt's options field for the grace period and their messages.
 */
abstract class ForcibleVmCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "VM", description = "the VirtualMachine")
    String name;

    @Option(names = "--grace-period", paramLabel = "SECONDS",
            description = "Period of time in seconds given to the VMI to terminate gracefully. Can only be set to 0 when --force is true (force deletion).")
    Long gracePeriod;

    @Option(names = "--force", arity = "0..1",
            description = "Only used when grace-period=0. If true, immediately remove VMI pod from API and bypass graceful deletion.")
    boolean force;

    @Option(names = "--dry-run", arity = "0..1", description = "If true, the command is executed without performing any changes.")
    boolean dryRun;

    /** The subresource, and the word in "VM x was scheduled to ...": {@code stop}, {@code restart}. */
    abstract String verb();

    /** KubeVirt's options field for the grace period ({@code StopOptions.gracePeriod}, {@code RestartOptions.gracePeriodSeconds}). */
    abstract String gracePeriodField();

    /** KubeVirt's error prefix, word for word. */
    abstract String errorPrefix(boolean forced);

    @Override
    final int doCall() throws VirtctlException {
        if ((gracePeriod != null) != force) {
            throw new VirtctlException.Usage("Must both use --force=true and set --grace-period.");
        }
        if (dryRun) {
            out().println("Dry Run execution");
        }
        ObjectNode options = Resources.options(dryRun);
        if (force) {
            options.put(gracePeriodField(), gracePeriod);
        }
        try (Cluster c = cluster()) {
            c.subresource(Resources.VMS, name, verb(), options, Resources.VM);
        } catch (VirtctlException.Api e) {
            throw e.prefixed(errorPrefix(force));
        }
        out().printf("VM %s was scheduled to %s%n", name, verb());
        return ExitCodes.OK;
    }
}
