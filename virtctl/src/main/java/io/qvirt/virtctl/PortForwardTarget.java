package io.qvirt.virtctl;

import java.util.Locale;

/**
 * The arguments of {@code port-forward} and {@code ssh}, parsed as KubeVirt's virtctl parses them
 * ({@code pkg/virtctl/portforward}: {@code ParseTarget}, {@code parsePort}), with its messages where it has them.
 *
 * @param vm        true for a VirtualMachine ({@code vm}, {@code vms}, {@code virtualmachine(s)}), false for a VMI
 * @param name      the VM's or VMI's name
 * @param namespace the target's namespace, or null to use {@code -n} / the context's
 */
record PortForwardTarget(boolean vm, String name, String namespace) {

    /** One forwarded port: {@code local} listened on (0: any free port), {@code remote} the guest's. */
    record Port(String protocol, int local, int remote) {
    }

    /** {@code vm} or {@code vmi}, as KubeVirt names the kind in its ProxyCommand and messages. */
    String kind() {
        return vm ? "vm" : "vmi";
    }

    /**
     * {@code TYPE/NAME[/NAMESPACE]} (KubeVirt's syntax; its older {@code TYPE/NAME.NAMESPACE} is gone from KubeVirt,
     * since names may hold dots, so a dot is part of the name here).
     */
    static PortForwardTarget parse(String target) throws VirtctlException.Usage {
        if (target == null || target.isEmpty()) {
            throw new VirtctlException.Usage("target cannot be empty");
        }
        String[] parts = target.split("/", -1);
        String ns = null;
        switch (parts.length) {
            case 1 -> throw new VirtctlException.Usage("target must contain type and name separated by '/'"
                    + " (TYPE/NAME[/NAMESPACE], TYPE: vm or vmi): \"" + target + "\"");
            case 2 -> { }
            case 3 -> {
                ns = parts[2];
                if (ns.isEmpty()) {
                    throw new VirtctlException.Usage("namespace cannot be empty");
                }
            }
            default -> throw new VirtctlException.Usage("target is not valid with more than two '/': \"" + target + "\"");
        }
        boolean vm = switch (parts[0].toLowerCase(Locale.ROOT)) {
            case "vm", "vms", "virtualmachine", "virtualmachines" -> true;
            case "vmi", "vmis", "virtualmachineinstance", "virtualmachineinstances" -> false;
            default -> throw new VirtctlException.Usage("unsupported resource type '" + parts[0]
                    + "': vm, vms, virtualmachine, virtualmachines, vmi, vmis, virtualmachineinstance, virtualmachineinstances");
        };
        if (parts[1].isEmpty()) {
            throw new VirtctlException.Usage("name cannot be empty");
        }
        return new PortForwardTarget(vm, parts[1], ns);
    }

    /**
     * KubeVirt's {@code [PROTOCOL/]LOCAL[:REMOTE]} (REMOTE defaults to LOCAL), also written
     * {@code LOCAL[:REMOTE]/PROTOCOL}. Protocols: tcp (default) and udp, of which qvirt forwards tcp only.
     */
    static Port parsePort(String arg) throws VirtctlException.Usage {
        String protocol = "tcp";
        String ports = arg;
        String[] slash = arg.split("/", -1);
        if (slash.length == 2) {
            boolean suffix = !slash[0].isEmpty() && Character.isDigit(slash[0].charAt(0));
            protocol = (suffix ? slash[1] : slash[0]).toLowerCase(Locale.ROOT);
            ports = suffix ? slash[0] : slash[1];
        } else if (slash.length > 2) {
            throw new VirtctlException.Usage("invalid port \"" + arg + "\": [PROTOCOL/]LOCAL[:REMOTE]");
        }
        if (protocol.equals("udp")) {
            throw new VirtctlException.Usage("port \"" + arg + "\": udp is not supported by qvirt's port-forward: tcp only");
        }
        if (!protocol.equals("tcp")) {
            throw new VirtctlException.Usage("unknown protocol: " + protocol + " (in \"" + arg + "\": tcp or udp)");
        }
        String[] lr = ports.split(":", -1);
        if (ports.isEmpty() || lr.length > 2) {
            throw new VirtctlException.Usage("invalid port \"" + arg + "\", missing local and/or remote port: [PROTOCOL/]LOCAL[:REMOTE]");
        }
        int local = number(lr[0], arg, "local", 0);
        int remote = lr.length == 2 ? number(lr[1], arg, "remote", 1) : local;
        if (remote == 0) {
            throw new VirtctlException.Usage("invalid remote port 0 in \"" + arg + "\": from 1 to 65535");
        }
        return new Port(protocol, local, remote);
    }

    private static int number(String s, String arg, String which, int min) throws VirtctlException.Usage {
        int n = s.matches("[0-9]{1,5}") ? Integer.parseInt(s) : -1;
        if (n < min || n > 65535) {
            throw new VirtctlException.Usage("invalid " + which + " port \"" + s + "\" in \"" + arg + "\": from " + min + " to 65535");
        }
        return n;
    }
}
