package io.qvirt.virtctl;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code virtctl guestosinfo VMI}: KubeVirt reads it from the QEMU guest agent; qvirt does not talk to one yet. */
@Command(name = "guestosinfo", description = "Return guest agent info about operating system (not available in qvirt yet).",
        mixinStandardHelpOptions = true)
final class GuestOsInfoCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "VMI", description = "the VirtualMachineInstance")
    String name;

    @Override
    int doCall() throws VirtctlException {
        throw new VirtctlException.Failure("guestosinfo " + name + ": needs the QEMU guest agent, which qvirt does not "
                + "talk to yet (KubeVirt asks it through virt-handler); nothing was asked of the cluster");
    }
}
