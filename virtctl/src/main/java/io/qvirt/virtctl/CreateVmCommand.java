package io.qvirt.virtctl;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code virtctl create vm}: KubeVirt's generator (its flags, defaults and the manifest's shape: runStrategy Always,
 * terminationGracePeriodSeconds 180, memory.guest 512Mi, {@code <vm>-containerdisk-<i>} volumes, a
 * {@code cloudinitdisk} NoCloud volume), printed as YAML. No cluster is asked. Flags for sources qvirt cannot run
 * (PVCs, DataVolumes, instance types) are not offered.
 */
@Command(name = "vm", description = {"Create a VirtualMachine manifest.",
    "If no boot order was specified volumes have the following fixed boot order: the order given."},
        mixinStandardHelpOptions = true,
        footer = {"", "Examples:", "  # A VirtualMachine with a random name:", "  virtctl create vm",
            "  # With specified memory and an ephemeral containerdisk volume:",
            "  virtctl create vm --memory=1Gi --volume-containerdisk=src:my.registry/my-image:my-tag",
            "  # With a generated cloud-init config setting the user and an ssh authorized key:",
            "  virtctl create vm --user cloud-user --ssh-key=\"ssh-ed25519 AAAA....\""})
final class CreateVmCommand extends BaseCommand {
    static final Pattern DNS1123_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    static final Pattern QUANTITY = Pattern.compile("[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|m)?");
    static final List<String> RUN_STRATEGIES = List.of("Always", "Manual", "Halted", "Once", "RerunOnFailure");

    @Option(names = "--name", description = "Specify the name of the VM (default vm-<random>).")
    String name;

    @Option(names = "--run-strategy", defaultValue = "Always", description = "Specify the RunStrategy of the VM: Always, Manual, Halted, Once, RerunOnFailure.")
    String runStrategy;

    @Option(names = "--termination-grace-period", defaultValue = "180", description = "Specify the termination grace period of the VM.")
    long terminationGracePeriod;

    @Option(names = "--memory", defaultValue = "512Mi", description = "Specify the memory of the VM.")
    String memory;

    @Option(names = "--volume-containerdisk", paramLabel = "src:IMAGE[,name:NAME][,bootorder:N]",
            description = "Specify a containerdisk to be used by the VM. Can be provided multiple times. Supported parameters: bootorder:1, name:disk1, src:my.registry/my-image:my-tag")
    List<String> containerDisks = new ArrayList<>();

    @Option(names = "--cloud-init", defaultValue = "nocloud", description = "Specify the type of the generated cloud-init data source: nocloud, none (configdrive is not run by qvirt).")
    String cloudInit;

    @Option(names = "--cloud-init-user-data", paramLabel = "BASE64", description = "Specify the base64 encoded cloud-init user data of the VM.")
    String userData;

    @Option(names = "--cloud-init-network-data", paramLabel = "BASE64", description = "Specify the base64 encoded cloud-init network data of the VM.")
    String networkData;

    @Option(names = "--user", description = "Specify the user in the cloud-init user data that is added to the VM.")
    String user;

    @Option(names = "--password-file", description = "Specify a file to read the password from for the cloud-init user data that is added to the VM.")
    Path passwordFile;

    @Option(names = "--ssh-key", split = ",", description = "Specify one or more SSH authorized keys in the cloud-init user data that is added to the VM.")
    List<String> sshKeys = new ArrayList<>();

    @Override
    int doCall() throws VirtctlException {
        if (name == null) {
            name = "vm-" + randomSuffix();
        }
        if (!DNS1123_LABEL.matcher(name).matches() || name.length() > 63) {
            throw new VirtctlException.Usage("--name \"" + name + "\": a lowercase RFC 1123 label (a-z, 0-9, '-'), at most 63 characters");
        }
        String strategy = RUN_STRATEGIES.stream().filter(s -> s.equalsIgnoreCase(runStrategy)).findFirst()
                .orElseThrow(() -> new VirtctlException.Usage("--run-strategy \"" + runStrategy + "\": one of " + RUN_STRATEGIES));
        if (!QUANTITY.matcher(memory).matches()) {
            throw new VirtctlException.Usage("--memory \"" + memory + "\": quantities must match the regular expression '"
                    + "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
        }
        if (userData != null && (user != null || passwordFile != null || !sshKeys.isEmpty())) {
            throw new VirtctlException.Usage("--cloud-init-user-data cannot be used with --user, --password-file or --ssh-key");
        }
        checkBase64("--cloud-init-user-data", userData);
        checkBase64("--cloud-init-network-data", networkData);

        ObjectNode vm = Cluster.JSON.createObjectNode();
        vm.put("apiVersion", "kubevirt.io/v1").put("kind", "VirtualMachine");
        ObjectNode meta = vm.putObject("metadata").put("name", name);
        if (root().namespace != null) {
            meta.put("namespace", root().namespace);
        }
        ObjectNode spec = vm.putObject("spec").put("runStrategy", strategy);
        ObjectNode tspec = spec.putObject("template").putObject("spec");
        ObjectNode domain = tspec.putObject("domain");
        ArrayNode disks = Cluster.JSON.createArrayNode();
        domain.putObject("memory").put("guest", memory);
        tspec.put("terminationGracePeriodSeconds", terminationGracePeriod);
        ArrayNode volumes = tspec.putArray("volumes");
        Set<String> names = new HashSet<>();
        Set<Integer> bootOrders = new HashSet<>();
        for (int i = 0; i < containerDisks.size(); i++) {
            containerDisk(containerDisks.get(i), i, volumes, disks, names, bootOrders);
        }
        cloudInit(volumes, names);
        ObjectNode devices = Cluster.JSON.createObjectNode();
        if (!disks.isEmpty()) {
            devices.set("disks", disks);
        }
        domain.set("devices", devices);
        domain.set("memory", domain.remove("memory"));
        domain.putObject("resources");
        if (volumes.isEmpty()) {
            tspec.remove("volumes");
        }
        out().print(yaml(vm));
        out().flush();
        return ExitCodes.OK;
    }

    private void containerDisk(String value, int index, ArrayNode volumes, ArrayNode disks, Set<String> names,
            Set<Integer> bootOrders) throws VirtctlException.Usage {
        String flag = "--volume-containerdisk";
        String src = null;
        String volName = null;
        Integer bootOrder = null;
        for (String part : value.split(",")) {
            int colon = part.indexOf(':');
            if (colon < 0) {
                throw new VirtctlException.Usage(flag + ": params need to have at least one colon: " + part);
            }
            String key = part.substring(0, colon).toLowerCase(Locale.ROOT);
            String v = part.substring(colon + 1);
            switch (key) {
                case "src" -> src = v;
                case "name" -> volName = v;
                case "bootorder" -> {
                    try {
                        bootOrder = Integer.parseInt(v);
                    } catch (NumberFormatException e) {
                        throw new VirtctlException.Usage(flag + ": failed to parse param \"bootorder\": " + v + " is not a number");
                    }
                }
                default -> throw new VirtctlException.Usage(flag + ": unknown param(s): " + part);
            }
        }
        if (src == null || src.isEmpty()) {
            throw new VirtctlException.Usage(flag + ": src must be specified");
        }
        if (volName == null) {
            volName = name + "-containerdisk-" + index;
        }
        if (!DNS1123_LABEL.matcher(volName).matches() || volName.length() > 63) {
            throw new VirtctlException.Usage(flag + ": invalid name \"" + volName + "\": a lowercase RFC 1123 label");
        }
        if (!names.add(volName)) {
            throw new VirtctlException.Usage(flag + ": there is already a volume with name \"" + volName + "\"");
        }
        volumes.addObject().put("name", volName).putObject("containerDisk").put("image", src);
        if (bootOrder != null) {
            if (bootOrder <= 0) {
                throw new VirtctlException.Usage(flag + ": bootorder must be greater than 0");
            }
            if (!bootOrders.add(bootOrder)) {
                throw new VirtctlException.Usage(flag + ": bootorder " + bootOrder + " was specified multiple times");
            }
            disks.addObject().put("name", volName).put("bootOrder", bootOrder);
        }
    }

    private void cloudInit(ArrayNode volumes, Set<String> names) throws VirtctlException {
        boolean asked = userData != null || networkData != null || user != null || passwordFile != null || !sshKeys.isEmpty();
        if (!asked) {
            return;
        }
        switch (cloudInit.toLowerCase(Locale.ROOT)) {
            case "nocloud" -> {
            }
            case "none" -> {
                err().println("WARNING: --cloud-init: was set to none, not creating a data source although other cloud-init options were set");
                return;
            }
            case "configdrive" -> throw new VirtctlException.Usage("--cloud-init configdrive: qvirt does not run "
                    + "cloudInitConfigDrive volumes; use nocloud");
            default -> throw new VirtctlException.Usage("--cloud-init: invalid cloud-init data source type \"" + cloudInit
                    + "\", supported values are: nocloud, none");
        }
        if (!names.add("cloudinitdisk")) {
            throw new VirtctlException.Usage("there is already a volume with name \"cloudinitdisk\"");
        }
        ObjectNode src = volumes.addObject().put("name", "cloudinitdisk").putObject("cloudInitNoCloud");
        if (networkData != null) {
            src.put("networkDataBase64", networkData);
        }
        if (userData != null) {
            src.put("userDataBase64", userData);
        } else if (user != null || passwordFile != null || !sshKeys.isEmpty()) {
            StringBuilder config = new StringBuilder("#cloud-config\n");
            if (user != null) {
                config.append("user: ").append(user).append('\n');
            }
            if (passwordFile != null) {
                err().println("WARNING: --password-file: The password is stored in cleartext in the VM definition!");
                String password;
                try {
                    password = Files.readString(passwordFile, StandardCharsets.UTF_8).strip();
                } catch (IOException e) {
                    throw new VirtctlException.Usage("--password-file " + passwordFile + ": " + Cluster.oneLine(e));
                }
                config.append("password: ").append(password).append("\nchpasswd: { expire: False }\n");
            }
            if (!sshKeys.isEmpty()) {
                config.append("ssh_authorized_keys:\n");
                for (String k : sshKeys) {
                    config.append("  - ").append(k).append('\n');
                }
            }
            src.put("userData", config.toString());
        }
    }

    private static void checkBase64(String flag, String value) throws VirtctlException.Usage {
        if (value == null) {
            return;
        }
        try {
            Base64.getDecoder().decode(value);
        } catch (IllegalArgumentException e) {
            throw new VirtctlException.Usage(flag + ": not base64: " + e.getMessage());
        }
    }

    private static String randomSuffix() {
        String alphabet = "bcdfghjklmnpqrstvwxz2456789";
        SecureRandom r = new SecureRandom();
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 5; i++) {
            b.append(alphabet.charAt(r.nextInt(alphabet.length())));
        }
        return b.toString();
    }

    static String yaml(ObjectNode node) throws VirtctlException {
        ObjectMapper m = new ObjectMapper(YAMLFactory.builder().disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES).enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS).enable(YAMLGenerator.Feature.LITERAL_BLOCK_STYLE)
                .enable(YAMLGenerator.Feature.INDENT_ARRAYS_WITH_INDICATOR).build());
        try {
            return m.writeValueAsString(node);
        } catch (IOException e) {
            throw new VirtctlException.Failure("cannot write YAML: " + Cluster.oneLine(e), e);
        }
    }
}
