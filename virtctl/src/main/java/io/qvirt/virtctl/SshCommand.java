package io.qvirt.virtctl;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code virtctl ssh [USER@]TYPE/NAME[/NAMESPACE]}: KubeVirt's local-ssh way. It runs the system {@code ssh} with
 * {@code -o ProxyCommand=<virtctl> port-forward --stdio=true TYPE/NAME/NAMESPACE PORT}, so ssh's bytes go through
 * {@link PortForwardCommand} (the API server, virt-api, the node's handler, the guest's port) and never to the node
 * directly. The target host ssh sees is {@code TYPE.NAME.NAMESPACE} (KubeVirt's), which keys its known_hosts entry.
 *
 * <p>The ProxyCommand names this virtctl ({@code $QVIRT_VIRTCTL_PATH}, set by {@code bin/virtctl}; else
 * {@code virtctl} on PATH) and carries {@code --kubeconfig} and {@code --context} when they were given, so the
 * tunnel uses the same cluster and user. ssh runs with this process's stdin, stdout and stderr; its exit status
 * other than 0 is exit 1 ({@code ssh exited with status N}), as KubeVirt's {@code exit status N}.
 */
@Command(name = "ssh", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Open a SSH connection to a virtual machine instance.", "",
            "Runs the local ssh client (openssh-client) with a ProxyCommand of",
            "'virtctl port-forward --stdio', so the connection goes through the API",
            "server; on qvirt the guest's port (-p, default 22) must be one its pod",
            "network interface lists (spec.domain.devices.interfaces[].ports)."},
        footer = {"", "Examples:", "  # Connect to 'testvmi':", "  virtctl ssh jdoe@vmi/testvmi [--identity-file=~/.ssh/id_rsa]", "",
            "  # Connect to 'testvm' in 'mynamespace' namespace:", "  virtctl ssh jdoe@vm/testvm/mynamespace", "",
            "  # Specify a username and namespace:", "  virtctl ssh --namespace=mynamespace --username=jdoe vmi/testvmi", "",
            "  # Run a command, passing options to the local ssh:",
            "  virtctl ssh -t '-o StrictHostKeyChecking=no' -c 'uname -a' jdoe@vm/testvm"})
final class SshCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "[USER@]TYPE/NAME[/NAMESPACE]", description = "the VM (vm/NAME) or VMI (vmi/NAME)")
    String target;

    @Option(names = {"-l", "--username"}, paramLabel = "USER",
            description = "The user to open the SSH connection as (default: $USER, $USERNAME or $LOGNAME; empty: ssh's default).")
    String username;

    @Option(names = {"-i", "--identity-file"}, paramLabel = "FILE",
            description = "A private key used for authenticating to the server (passed to ssh -i; otherwise ssh's default and agent).")
    String identityFile;

    @Option(names = "--known-hosts", paramLabel = "FILE",
            description = "The known_hosts file (passed as ssh -o UserKnownHostsFile=FILE; otherwise ssh's own).")
    String knownHosts;

    @Option(names = {"-p", "--port"}, defaultValue = "22", paramLabel = "PORT",
            description = "The port on the VM to send SSH traffic to (default ${DEFAULT-VALUE}).")
    int port;

    @Option(names = {"-c", "--command"}, paramLabel = "COMMAND", description = "A command to execute in the VM.")
    String command;

    @Option(names = {"-t", "--local-ssh-opts"}, paramLabel = "OPTS",
            description = "Additional options for the local ssh client, e.g. -t '-o StrictHostKeyChecking=no' (repeatable; "
                    + "each is split on spaces).")
    List<String> localSshOpts = new ArrayList<>();

    @Override
    int doCall() throws Exception {
        if (port < 1 || port > 65535) {
            throw new VirtctlException.Usage("--port " + port + ": from 1 to 65535");
        }
        String user = null;
        String rest = target;
        int at = target.indexOf('@');
        if (at >= 0) {
            user = target.substring(0, at);
            rest = target.substring(at + 1);
            if (user.isEmpty()) {
                throw new VirtctlException.Usage("expected username before '@'");
            }
            if (rest.isEmpty()) {
                throw new VirtctlException.Usage("expected target after '@'");
            }
        }
        PortForwardTarget t = PortForwardTarget.parse(rest);
        if (user == null) {
            user = username != null ? username : defaultUser();
        }
        VirtctlCommand root = root();
        // The namespace: the target's, else -n, else the context's, read as every other verb reads it.
        String ns = t.namespace();
        if (ns == null) {
            try (Cluster c = cluster()) {
                ns = c.namespace();
            }
        }
        Path ssh = findSsh();
        List<String> cmd = new ArrayList<>();
        cmd.add(ssh.toString());
        cmd.addAll(sshArgs(virtctlPath(), root.kubeconfig, root.context, t, ns, port, user, identityFile, knownHosts,
                localSshOpts, command));
        Process p;
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
            // virtctl's environment (the process's own, or what an embedding caller gave it): ssh and its
            // ProxyCommand see the same KUBECONFIG, HOME and SSH_AUTH_SOCK.
            pb.environment().clear();
            pb.environment().putAll(io().env());
            p = pb.start();
        } catch (IOException e) {
            throw new VirtctlException.Failure("cannot run " + ssh + ": " + Cluster.oneLine(e), e);
        }
        // The session lasts as long as the user keeps it: no timeout on ssh itself.
        int status = p.waitFor();
        if (status != 0) {
            throw new VirtctlException.Failure("ssh exited with status " + status);
        }
        return ExitCodes.OK;
    }

    /**
     * ssh's arguments, KubeVirt's order: the ProxyCommand, the local options, {@code -i}, then
     * {@code [USER@]TYPE.NAME.NAMESPACE} and the command.
     */
    static List<String> sshArgs(String virtctl, String kubeconfig, String context, PortForwardTarget t, String ns, int port,
                                String user, String identityFile, String knownHosts, List<String> localOpts, String command) {
        List<String> proxy = new ArrayList<>(List.of(virtctl));
        if (kubeconfig != null) {
            proxy.addAll(List.of("--kubeconfig", kubeconfig));
        }
        if (context != null) {
            proxy.addAll(List.of("--context", context));
        }
        proxy.addAll(List.of("port-forward", "--stdio=true", t.kind() + "/" + t.name() + "/" + ns, String.valueOf(port)));
        StringBuilder proxyCommand = new StringBuilder("ProxyCommand=");
        for (int i = 0; i < proxy.size(); i++) {
            proxyCommand.append(i == 0 ? "" : " ").append(shellQuote(proxy.get(i)).replace("%", "%%"));
        }
        List<String> args = new ArrayList<>(List.of("-o", proxyCommand.toString()));
        for (String o : localOpts) {
            for (String w : o.trim().split("\\s+")) {
                if (!w.isEmpty()) {
                    args.add(w);
                }
            }
        }
        if (identityFile != null) {
            args.addAll(List.of("-i", identityFile));
        }
        if (knownHosts != null) {
            args.addAll(List.of("-o", "UserKnownHostsFile=" + knownHosts));
        }
        args.add((user == null || user.isEmpty() ? "" : user + "@") + t.kind() + "." + t.name() + "." + ns);
        if (command != null && !command.isEmpty()) {
            args.add(command);
        }
        return args;
    }

    /** A word for {@code /bin/sh -c} (ssh runs the ProxyCommand through the user's shell). */
    static String shellQuote(String s) {
        if (!s.isEmpty() && s.matches("[A-Za-z0-9_./=:@%+,-]+")) {
            return s;
        }
        return "'" + s.replace("'", "'\\''") + "'";
    }

    private String defaultUser() {
        for (String v : List.of("USER", "USERNAME", "LOGNAME")) {
            String u = io().env(v);
            if (u != null && !u.isEmpty()) {
                return u;
            }
        }
        return null;
    }

    private String virtctlPath() {
        String self = io().env("QVIRT_VIRTCTL_PATH");
        return self != null && !self.isBlank() ? self : "virtctl";
    }

    /** {@code ssh} on PATH, or a clear error saying how to get it. */
    private Path findSsh() throws VirtctlException {
        String path = io().env("PATH");
        if (path != null) {
            for (String dir : path.split(File.pathSeparator)) {
                if (dir.isEmpty()) {
                    continue;
                }
                Path p = Path.of(dir, "ssh");
                if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                    return p;
                }
            }
        }
        throw new VirtctlException.Failure("the local ssh client was not found on PATH (" + (path == null ? "unset" : path)
                + "): virtctl ssh runs it; install it (Debian: apt-get install openssh-client)");
    }
}
