package io.qvirt.sandbox;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How the FAKE node agent turns a pod's container into a local process, as a kubelet would into a
 * container: the environment ({@code value}, {@code valueFrom.fieldRef}), {@code $(VAR)} references in env
 * values, command and args (Kubernetes' expansion rules), and the container's mount paths mapped to host
 * directories (a hostPath to the node's fake root, e.g. {@code /run/qvirt} to the node's runtime root; an
 * emptyDir to the pod's own directory). Pure functions, no process started here.
 */
public final class PodCommands {
    /** Programs of this checkout's {@code bin/} that a container's command may name by bare name. */
    static final List<String> QVIRT_PROGRAMS = List.of("launcher", "virt-handler", "virt-controller", "kvm-probe");

    private PodCommands() {
    }

    /** Where this pod runs: the node, its address, the pod's address, the node's fake root for hostPaths. */
    public record Placement(String nodeName, String hostIP, String podIP, Path runtimeRoot, Path hostRoot, Path podDir,
                            Path binDir) {
    }

    /** A container that cannot be run as asked (the kubelet's CreateContainerConfigError / CreateContainerError). */
    public static final class Unrunnable extends Exception {
        private static final long serialVersionUID = 1L;
        public final String reason;

        Unrunnable(String reason, String message) {
            super(message);
            this.reason = reason;
        }
    }

    /**
     * Host directory of every volume of the pod: hostPath {@code /run/qvirt} -> the node's runtime root,
     * any other hostPath -> under the node's fake root, emptyDir (and anything else) -> the pod's directory.
     */
    public static Map<String, Path> volumePaths(Pod pod, Placement at) {
        return volumePaths(pod, at, claim -> null);
    }

    /**
     * As {@link #volumePaths(Pod, Placement)}, a persistentVolumeClaim volume at the directory of the claim's FAKE PV.
     *
     * @param claims claim name (in the pod's namespace) -> the directory of its PV; null: none (the pod's directory)
     */
    public static Map<String, Path> volumePaths(Pod pod, Placement at, java.util.function.Function<String, Path> claims) {
        Map<String, Path> out = new LinkedHashMap<>();
        List<Volume> vols = pod.getSpec().getVolumes() == null ? List.of() : pod.getSpec().getVolumes();
        for (Volume v : vols) {
            Path claim = v.getPersistentVolumeClaim() == null ? null
                    : claims.apply(v.getPersistentVolumeClaim().getClaimName());
            if (claim != null) {
                out.put(v.getName(), claim);
            } else if (v.getHostPath() != null) {
                String p = v.getHostPath().getPath();
                if (p.equals("/run/qvirt") || p.equals("/var/run/qvirt")) {
                    out.put(v.getName(), at.runtimeRoot());
                } else {
                    out.put(v.getName(), at.hostRoot().resolve(p.replaceFirst("^/+", "")));
                }
            } else {
                out.put(v.getName(), at.podDir().resolve("volumes").resolve(v.getName()));
            }
        }
        return out;
    }

    /** The container's mounts: mount path in the container -> host path (a subPath appended). */
    public static Map<String, Path> mounts(Container c, Map<String, Path> volumes) throws Unrunnable {
        Map<String, Path> out = new LinkedHashMap<>();
        List<VolumeMount> ms = c.getVolumeMounts() == null ? List.of() : c.getVolumeMounts();
        for (VolumeMount m : ms) {
            Path host = volumes.get(m.getName());
            if (host == null) {
                throw new Unrunnable("CreateContainerConfigError", "container " + c.getName() + " mounts volume "
                        + m.getName() + " which the pod does not have");
            }
            if (m.getSubPath() != null && !m.getSubPath().isEmpty()) {
                host = host.resolve(m.getSubPath());
            }
            out.put(m.getMountPath(), host);
        }
        return out;
    }

    /**
     * The directories the container's mount points sit in that no mount covers, each with the mounts right under it
     * by name (e.g. {@code /var/run/kubevirt-private/vmi-disks} -> {@code data} -> the claim's directory). In a
     * container they exist in its root file system; on the host the node agent makes each a directory of links, so a
     * program given the parent (the launcher's {@code --pvc-dir}) finds every mount under it.
     */
    public static Map<String, Map<String, Path>> mountParents(Map<String, Path> mounts) {
        Map<String, Map<String, Path>> out = new LinkedHashMap<>();
        for (Map.Entry<String, Path> m : mounts.entrySet()) {
            Path mp = Path.of(m.getKey());
            Path parent = mp.getParent();
            if (parent == null || parent.getParent() == null || mp.getFileName() == null) {
                continue; // "/x": its parent is the root
            }
            String p = parent.toString();
            if (!mapPath(p, mounts).equals(p)) {
                continue; // under a mount already: the link would go into that volume
            }
            out.computeIfAbsent(p, k -> new LinkedHashMap<>()).put(mp.getFileName().toString(), m.getValue());
        }
        return out;
    }

    /** {@code s} with a leading container mount path replaced by its host path (longest mount first). */
    public static String mapPath(String s, Map<String, Path> mounts) {
        if (s == null || !s.startsWith("/")) {
            return s;
        }
        List<String> paths = new ArrayList<>(mounts.keySet());
        paths.sort(Comparator.comparingInt(String::length).reversed());
        for (String mp : paths) {
            String m = mp.endsWith("/") && mp.length() > 1 ? mp.substring(0, mp.length() - 1) : mp;
            if (s.equals(m)) {
                return mounts.get(mp).toString();
            }
            if (s.startsWith(m + "/")) {
                return mounts.get(mp).resolve(s.substring(m.length() + 1)).toString();
            }
        }
        return s;
    }

    /**
     * The container's environment in order: each {@code value} with {@code $(VAR)} expanded against the
     * variables before it, each {@code fieldRef} resolved; host paths mapped.
     */
    public static Map<String, String> env(Container c, Pod pod, Placement at, Map<String, Path> mounts) throws Unrunnable {
        Map<String, String> env = new LinkedHashMap<>();
        List<EnvVar> vars = c.getEnv() == null ? List.of() : c.getEnv();
        for (EnvVar e : vars) {
            String v;
            if (e.getValueFrom() != null) {
                if (e.getValueFrom().getFieldRef() == null) {
                    throw new Unrunnable("CreateContainerConfigError", "env " + e.getName() + " of container "
                            + c.getName() + ": only valueFrom.fieldRef is played by the FAKE node agent");
                }
                v = fieldRef(e.getValueFrom().getFieldRef().getFieldPath(), pod, at);
            } else {
                v = expand(e.getValue() == null ? "" : e.getValue(), env);
            }
            env.put(e.getName(), mapPath(v, mounts));
        }
        return env;
    }

    /** A downward-API field, as the kubelet resolves it. */
    static String fieldRef(String path, Pod pod, Placement at) throws Unrunnable {
        switch (path) {
            case "metadata.name":
                return pod.getMetadata().getName();
            case "metadata.namespace":
                return pod.getMetadata().getNamespace();
            case "metadata.uid":
                return pod.getMetadata().getUid();
            case "spec.nodeName":
                return at.nodeName();
            case "spec.serviceAccountName":
                return pod.getSpec().getServiceAccountName() == null ? "default" : pod.getSpec().getServiceAccountName();
            case "status.podIP":
            case "status.podIPs":
                return at.podIP();
            case "status.hostIP":
            case "status.hostIPs":
                return at.hostIP();
            default:
                break;
        }
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("metadata\\.(labels|annotations)\\['([^']+)'\\]").matcher(path);
        if (m.matches()) {
            Map<String, String> src = m.group(1).equals("labels") ? pod.getMetadata().getLabels() : pod.getMetadata().getAnnotations();
            return src == null ? "" : src.getOrDefault(m.group(2), "");
        }
        throw new Unrunnable("CreateContainerConfigError", "fieldRef " + path + " is not supported");
    }

    /**
     * Kubernetes' {@code $(VAR)} expansion: a defined variable is replaced, an undefined reference is kept
     * as written, {@code $$} is an escaped {@code $}.
     */
    public static String expand(String s, Map<String, String> env) {
        StringBuilder out = new StringBuilder(s.length());
        int i = 0;
        while (i < s.length()) {
            char ch = s.charAt(i);
            if (ch != '$' || i + 1 >= s.length()) {
                out.append(ch);
                i++;
                continue;
            }
            char next = s.charAt(i + 1);
            if (next == '$') {
                out.append('$');
                i += 2;
            } else if (next == '(') {
                int close = s.indexOf(')', i + 2);
                if (close < 0) {
                    out.append(s, i, s.length());
                    break;
                }
                String name = s.substring(i + 2, close);
                String v = env.get(name);
                out.append(v != null ? v : s.substring(i, close + 1));
                i = close + 1;
            } else {
                out.append(ch).append(next);
                i += 2;
            }
        }
        return out.toString();
    }

    /**
     * The argv to run: command then args, {@code $(VAR)} expanded with the container's environment, paths
     * under its mounts mapped to the host, and the program resolved on the host: a qvirt program by bare
     * name ({@code launcher}) -> this checkout's {@code bin/}, another bare name -> {@code $PATH}, an
     * absolute path as mapped.
     */
    public static List<String> argv(Container c, Map<String, String> env, Map<String, Path> mounts, Path binDir,
                                    String hostPath) throws Unrunnable {
        List<String> raw = new ArrayList<>();
        if (c.getCommand() != null) {
            raw.addAll(c.getCommand());
        }
        if (c.getArgs() != null) {
            raw.addAll(c.getArgs());
        }
        if (c.getCommand() == null || c.getCommand().isEmpty()) {
            throw new Unrunnable("CreateContainerError", "container " + c.getName() + " has no command: the FAKE node "
                    + "agent cannot run an image's entrypoint");
        }
        List<String> argv = new ArrayList<>();
        for (String a : raw) {
            argv.add(mapHostDisks(mapPath(expand(a, env), mounts), mounts));
        }
        argv.set(0, program(argv.get(0), binDir, hostPath, c.getName()));
        return argv;
    }

    /**
     * A VMI given as JSON (the launcher's {@code --vmi-json}) with each {@code spec.volumes[].hostDisk.path} mapped as
     * a path argument is: the controller names a hostDisk where the pod mounts its directory
     * ({@code /var/run/kubevirt-private/vmi-disks/<volume>/<file>}), which in a container resolves through the mount
     * and here must be the host directory standing for it. Any other argument is returned as it is.
     */
    static String mapHostDisks(String arg, Map<String, Path> mounts) {
        if (!arg.startsWith("{") || !arg.contains("\"hostDisk\"")) {
            return arg;
        }
        try {
            com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
            com.fasterxml.jackson.databind.JsonNode vmi = json.readTree(arg);
            boolean changed = false;
            for (com.fasterxml.jackson.databind.JsonNode v : vmi.path("spec").path("volumes")) {
                com.fasterxml.jackson.databind.JsonNode hd = v.path("hostDisk");
                if (hd.isObject() && hd.path("path").isTextual()) {
                    String mapped = mapPath(hd.path("path").asText(), mounts);
                    if (!mapped.equals(hd.path("path").asText())) {
                        ((com.fasterxml.jackson.databind.node.ObjectNode) hd).put("path", mapped);
                        changed = true;
                    }
                }
            }
            return changed ? json.writeValueAsString(vmi) : arg;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return arg; // not JSON after all
        }
    }

    static String program(String name, Path binDir, String hostPath, String container) throws Unrunnable {
        if (name.startsWith("/")) {
            if (!Files.isExecutable(Path.of(name))) {
                throw new Unrunnable("CreateContainerError", "container " + container + ": " + name + " is not an executable on this host");
            }
            return name;
        }
        if (QVIRT_PROGRAMS.contains(name) && Files.isExecutable(binDir.resolve(name))) {
            return binDir.resolve(name).toString();
        }
        for (String dir : (hostPath == null ? "/usr/local/bin:/usr/bin:/bin" : hostPath).split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, name))) {
                return Path.of(dir, name).toString();
            }
        }
        throw new Unrunnable("CreateContainerError", "container " + container + ": " + name + " not found in $PATH");
    }
}
