package io.qvirt.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Invalid documents, each with the exact field paths and messages KubeVirt's admission gives. */
class ValidationTableTest {
    static final String VMI = """
            apiVersion: kubevirt.io/v1
            kind: VirtualMachineInstance
            metadata: {name: t}
            spec:
              domain:
                devices:
                  disks:
                  - {name: containerdisk, disk: {bus: virtio}}
                  - {name: cloudinitdisk, disk: {bus: virtio}}
                  interfaces:
                  - {name: default, masquerade: {}}
                resources: {requests: {memory: 64M}}
              networks: [{name: default, pod: {}}]
              volumes:
              - {name: containerdisk, containerDisk: {image: quay.io/kubevirt/cirros-container-disk-demo}}
              - {name: cloudinitdisk, cloudInitNoCloud: {userDataBase64: SGkuXG4=}}
            """;

    static final String VM = """
            apiVersion: kubevirt.io/v1
            kind: VirtualMachine
            metadata: {name: t}
            spec:
              running: false
              template:
                spec:
                  domain:
                    devices:
                      disks:
                      - {name: containerdisk, disk: {bus: virtio}}
                    resources: {requests: {memory: 64M}}
                  volumes:
                  - {name: containerdisk, containerDisk: {image: quay.io/kubevirt/cirros-container-disk-demo}}
            """;

    static final String MEM_RE = "quantities must match the regular expression "
            + "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
    static final String DNS_LABEL = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
            + "'-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used "
            + "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

    record Case(String name, String base, FeatureGates gates, List<Consumer<ObjectNode>> edits, List<FieldError> expected) {
        @Override
        public String toString() {
            return name;
        }
    }

    static final class B {
        final String name;
        final String base;
        FeatureGates gates = FeatureGates.kubevirtDefaults();
        final List<Consumer<ObjectNode>> edits = new ArrayList<>();

        B(String name, String base) {
            this.name = name;
            this.base = base;
        }

        B set(String pointer, String yamlValue) {
            edits.add(root -> {
                JsonPointer p = JsonPointer.compile(pointer);
                JsonNode parent = root.at(p.head());
                JsonNode value = yaml(yamlValue);
                if (parent instanceof ArrayNode a) {
                    String last = p.last().getMatchingProperty();
                    if ("-".equals(last)) {
                        a.add(value);
                    } else {
                        a.set(Integer.parseInt(last), value);
                    }
                } else {
                    ((ObjectNode) parent).set(p.last().getMatchingProperty(), value);
                }
            });
            return this;
        }

        B remove(String pointer) {
            edits.add(root -> {
                JsonPointer p = JsonPointer.compile(pointer);
                JsonNode parent = root.at(p.head());
                if (parent instanceof ArrayNode a) {
                    a.remove(Integer.parseInt(p.last().getMatchingProperty()));
                } else {
                    ((ObjectNode) parent).remove(p.last().getMatchingProperty());
                }
            });
            return this;
        }

        B gates(FeatureGates g) {
            this.gates = g;
            return this;
        }

        Arguments expect(String... pathsAndMessages) {
            List<FieldError> errs = new ArrayList<>();
            for (int i = 0; i < pathsAndMessages.length; i += 2) {
                errs.add(new FieldError(pathsAndMessages[i], pathsAndMessages[i + 1]));
            }
            return Arguments.of(new Case(name, base, gates, edits, errs));
        }
    }

    static B vmi(String name) {
        return new B(name, VMI);
    }

    static B vm(String name) {
        return new B(name, VM);
    }

    static JsonNode yaml(String text) {
        try {
            return KubevirtJson.yaml().readTree(text);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    static final String D = "/spec/domain/devices/disks";
    static final String I = "/spec/domain/devices/interfaces";
    static final String V = "/spec/volumes";
    static final String SD = "spec.domain.devices.disks";
    static final String SI = "spec.domain.devices.interfaces";

    static Stream<Arguments> cases() {
        return Stream.of(
                // disks and volumes
                vmi("disk without volume").set(D + "/-", "{name: missing, disk: {}}").expect(
                        SD + "[2].name", SD + "[2].Name 'missing' not found."),
                vmi("duplicate disk name").set(D + "/1/name", "containerdisk").expect(
                        SD + "[1].name", SD + "[1] and " + SD + "[0] must not have the same Name."),
                vmi("duplicate volume name").set(V + "/1/name", "containerdisk").expect(
                        SD + "[1].name", SD + "[1].Name 'cloudinitdisk' not found.",
                        "spec.volumes[1].name", "spec.volumes[1] and spec.volumes[0] must not have the same Name."),
                vmi("disk name not a DNS label").set(D + "/0/name", "Root").set(V + "/0/name", "Root").expect(
                        SD + "[0].name", DNS_LABEL),
                vmi("two disk targets").set(D + "/0/cdrom", "{bus: sata}").expect(
                        SD + "[0]", SD + "[0] can only have a single target type defined"),
                vmi("ide bus").set(D + "/0/disk/bus", "ide").expect(SD + "[0].disk.bus", "IDE bus is not supported"),
                vmi("unknown bus").set(D + "/0/disk/bus", "nvme").expect(SD + "[0].disk.bus",
                        SD + "[0] is set with an unrecognized bus nvme, must be one of: [virtio scsi sata usb]"),
                vmi("cdrom on virtio").set(D + "/0", "{name: containerdisk, cdrom: {bus: virtio}}").expect(
                        SD + "[0].cdrom.bus", "Bus type virtio is invalid for CD-ROM device"),
                vmi("read-only sata disk").set(D + "/0/disk", "{bus: sata, readonly: true}").expect(
                        SD + "[0].disk.bus", "sata hard-disks do not support read-only."),
                vmi("lun on a containerDisk").set(D + "/0", "{name: containerdisk, lun: {}}").expect(
                        SD + "[0].lun", SD + "[0].lun can only be mapped to a DataVolume or PersistentVolumeClaim volume."),
                vmi("boot order 0").set(D + "/0/bootOrder", "0").expect(
                        SD + "[0].bootOrder", SD + "[0] must have a boot order > 0, if supplied"),
                vmi("duplicate boot order").set(D + "/0/bootOrder", "1").set(D + "/1/bootOrder", "1").expect(
                        SD + "[1].bootOrder", "Boot order for " + SD + "[1].bootOrder already set for a different device."),
                vmi("disk and interface share a boot order").set(D + "/0/bootOrder", "1").set(I + "/0/bootOrder", "1")
                        .expect(SI + "[0].bootOrder", "Boot order for " + SI + "[0].bootOrder already set for a different device."),
                vmi("bad serial").set(D + "/0/serial", "'a b'").expect(SD + "[0].serial",
                        SD + "[0] must be made up of the following characters [A-Za-z0-9_.+-], if specified"),
                vmi("bad cache").set(D + "/0/cache", "unsafe").expect(SD + "[0].cache",
                        SD + "[0].cache has invalid value unsafe"),
                vmi("bad io").set(D + "/0/io", "io_uring").expect(SD + "[0].io",
                        "Disk IO mode for " + SD + " is not supported. Supported modes are: native, threads."),
                vmi("two volume sources").set(V + "/0/emptyDisk", "{capacity: 1Gi}").expect(
                        "spec.volumes[0]", "spec.volumes[0] must have exactly one source type set"),
                vmi("no volume source").set(V + "/0", "{name: containerdisk}").expect(
                        "spec.volumes[0]", "spec.volumes[0] must have exactly one source type set"),
                vmi("image missing").set(V + "/0/containerDisk", "{}").expect(
                        "spec.volumes[0].containerDisk.image", "spec.volumes[0].containerDisk.image in body is required"),
                vmi("image malformed").set(V + "/0/containerDisk/image", "quay.io/KubeVirt/cirros").expect(
                        "spec.volumes[0].containerDisk.image", "spec.volumes[0].containerDisk.image "
                                + "'quay.io/KubeVirt/cirros' is not a valid image reference: expected "
                                + "[registry[:port]/]repository[:tag][@digest], lower-case repository"),
                vmi("image with a bad tag").set(V + "/0/containerDisk/image", "'quay.io/kubevirt/cirros:'").expect(
                        "spec.volumes[0].containerDisk.image", "spec.volumes[0].containerDisk.image "
                                + "'quay.io/kubevirt/cirros:' is not a valid image reference: expected "
                                + "[registry[:port]/]repository[:tag][@digest], lower-case repository"),
                vmi("containerDisk path relative").set(V + "/0/containerDisk/path", "disk/../x.img").expect(
                        "spec.volumes[0].containerDisk", "spec.volumes[0].containerDisk must be an absolute path to a "
                                + "file without relative components"),
                vmi("emptyDisk without capacity").set(V + "/-", "{name: scratch, emptyDisk: {}}").expect(
                        "spec.volumes[2].emptyDisk.capacity", "spec.volumes[2].emptyDisk.capacity in body is required"),
                vmi("emptyDisk capacity 0").set(V + "/-", "{name: scratch, emptyDisk: {capacity: '0'}}").expect(
                        "spec.volumes[2].emptyDisk.capacity", "spec.volumes[2].emptyDisk.capacity '0': must be greater than 0"),
                vmi("hostDisk without the gate").set(V + "/-", "{name: h, hostDisk: {path: /d.img, type: Disk}}").expect(
                        "spec.volumes[2]", "HostDisk feature gate is not enabled"),
                vmi("hostDisk relative path").gates(FeatureGates.kubevirtDefaults().with(FeatureGates.HOST_DISK))
                        .set(V + "/-", "{name: h, hostDisk: {path: d.img, type: Disk}}").expect(
                        "spec.volumes[2].hostDisk.path", "spec.volumes[2].hostDisk.path must be an absolute path to a "
                                + "file without relative components"),
                vmi("hostDisk without path").gates(FeatureGates.kubevirtDefaults().with(FeatureGates.HOST_DISK))
                        .set(V + "/-", "{name: h, hostDisk: {type: Disk}}").expect(
                        "spec.volumes[2].hostDisk.path", "spec.volumes[2].hostDisk.path is required for hostDisk volume"),
                vmi("hostDisk bad type").gates(FeatureGates.kubevirtDefaults().with(FeatureGates.HOST_DISK))
                        .set(V + "/-", "{name: h, hostDisk: {path: /d.img, type: File}}").expect(
                        "spec.volumes[2].hostDisk.type", "spec.volumes[2].hostDisk.type has invalid value 'File', "
                                + "allowed are 'Disk' or 'DiskOrCreate'"),
                vmi("hostDisk capacity with type Disk").gates(FeatureGates.kubevirtDefaults().with(FeatureGates.HOST_DISK))
                        .set(V + "/-", "{name: h, hostDisk: {path: /d.img, type: Disk, capacity: 1Gi}}").expect(
                        "spec.volumes[2].hostDisk.capacity", "spec.volumes[2].hostDisk.capacity is allowed to pass only "
                                + "with spec.volumes[2].hostDisk.type equal to 'DiskOrCreate'"),
                vmi("hostDisk DiskOrCreate without capacity").gates(FeatureGates.kubevirtDefaults()
                        .with(FeatureGates.HOST_DISK))
                        .set(V + "/-", "{name: h, hostDisk: {path: /d.img, type: DiskOrCreate}}").expect(
                        "spec.volumes[2].hostDisk.capacity", "spec.volumes[2].hostDisk.capacity is required when "
                                + "spec.volumes[2].hostDisk.type is 'DiskOrCreate'"),
                vmi("configMap without name").set(V + "/-", "{name: cm, configMap: {}}").expect(
                        "spec.volumes[2].configMap.name", "spec.volumes[2].configMap.name is a required field"),
                vmi("secret without secretName").set(V + "/-", "{name: s, secret: {}}").expect(
                        "spec.volumes[2].secret.secretName", "spec.volumes[2].secret.secretName is a required field"),
                vmi("two serviceAccount volumes")
                        .set(V + "/-", "{name: sa1, serviceAccount: {serviceAccountName: a}}")
                        .set(V + "/-", "{name: sa2, serviceAccount: {serviceAccountName: a}}").expect(
                        "spec.volumes", "spec.volumes must have max one serviceAccount volume set"),
                vmi("dataVolume without name").set(V + "/-", "{name: dv, dataVolume: {}}").expect(
                        "spec.volumes[2].name", "DataVolume 'name' must be set"),
                // cloud-init
                vmi("userDataBase64 not base64").set(V + "/1/cloudInitNoCloud/userDataBase64", "'not base64!'").expect(
                        "spec.volumes[1].cloudInitNoCloud.userDataBase64", "spec.volumes[1].cloudInitNoCloud."
                                + "userDataBase64.cloudInitNoCloud.userDataBase64 is not a valid base64 value."),
                vmi("networkDataBase64 not base64").set(V + "/1/cloudInitNoCloud/networkDataBase64", "'%%%'").expect(
                        "spec.volumes[1].cloudInitNoCloud.networkDataBase64", "spec.volumes[1].cloudInitNoCloud."
                                + "networkDataBase64.cloudInitNoCloud.networkDataBase64 is not a valid base64 value."),
                vmi("two user data sources").set(V + "/1/cloudInitNoCloud/userData", "'#cloud-config'").expect(
                        "spec.volumes[1].cloudInitNoCloud", "spec.volumes[1].cloudInitNoCloud must have only one "
                                + "userdatasource set."),
                vmi("user data too long").set(V + "/1/cloudInitNoCloud", "{userData: '" + "x".repeat(2049) + "'}").expect(
                        "spec.volumes[1].cloudInitNoCloud", "spec.volumes[1].cloudInitNoCloud userdata exceeds 2048 byte "
                                + "limit. Should use UserDataSecretRef for larger data."),
                vmi("config drive network data too long")
                        .set(V + "/1", "{name: cloudinitdisk, cloudInitConfigDrive: {networkData: '"
                                + "y".repeat(2049) + "'}}").expect(
                        "spec.volumes[1].cloudInitConfigDrive", "spec.volumes[1].cloudInitConfigDrive networkdata "
                                + "exceeds 2048 byte limit. Should use NetworkDataSecretRef for larger data."),
                vmi("cloud-init without data").set(V + "/1/cloudInitNoCloud", "{}").expect(
                        "spec.volumes[1].cloudInitNoCloud", "spec.volumes[1].cloudInitNoCloud must have at least one "
                                + "userdatasource or one networkdatasource set."),
                // networks
                vmi("interface without network").set(I + "/0/name", "other").expect(
                        SI + "[0].name", "Masquerade interface only implemented with pod network",
                        "spec.networks[0].name", "spec.networks[0].name 'default' not found.",
                        SI + "[0].name", SI + "[0].name 'other' not found."),
                vmi("two interfaces on one network").set(I + "/-", "{name: default, bridge: {}}").expect(
                        SI + "[1].name", "Only one interface can be connected to one specific network"),
                vmi("duplicate network name").set(I + "/-", "{name: blue, bridge: {}}")
                        .set("/spec/networks/-", "{name: default, multus: {networkName: blue}}").expect(
                        "spec.networks[1].name", "Network with name \"default\" already exists, every network must "
                                + "have a unique name",
                        SI + "[1].name", SI + "[1].name 'blue' not found."),
                vmi("two pod networks").set(I + "/-", "{name: second, bridge: {}}")
                        .set("/spec/networks/-", "{name: second, pod: {}}").expect(
                        "spec.interfaces", "more than one interface is connected to a pod network in spec.interfaces"),
                vmi("network without type").set("/spec/networks/0", "{name: default}").expect(
                        "spec.networks[0]", "should have a network type",
                        SI + "[0].name", "Masquerade interface only implemented with pod network"),
                vmi("multus without networkName").set(I + "/-", "{name: blue, bridge: {}}")
                        .set("/spec/networks/-", "{name: blue, multus: {}}").expect(
                        "spec.networks[1]", "CNI delegating plugin must have a networkName"),
                vmi("no binding").set(I + "/0", "{name: default}").expect(
                        SI + "[0]", "logical default interface must have exactly one binding method or binding plugin"),
                vmi("two bindings").set(I + "/0/bridge", "{}").expect(
                        SI + "[0]", "logical default interface must have exactly one binding method or binding plugin"),
                vmi("slirp discontinued").set(I + "/0", "{name: default, slirp: {}}").expect(
                        SI + "[0].slirp", "Slirp interface support has been discontinued since v1.3"),
                vmi("masquerade on multus").set(I + "/-", "{name: blue, masquerade: {}}")
                        .set("/spec/networks/-", "{name: blue, multus: {networkName: blue}}").expect(
                        SI + "[1].name", "Masquerade interface only implemented with pod network"),
                vmi("passtBinding on multus").set(I + "/-", "{name: blue, passtBinding: {}}")
                        .set("/spec/networks/-", "{name: blue, multus: {networkName: blue}}").expect(
                        SI + "[1].name", "PasstBinding interface only implemented with pod network"),
                vmi("reserved MAC on masquerade").set(I + "/0/macAddress", "'02:00:00:00:00:00'").expect(
                        SI + "[0].macAddress", "The requested MAC address is reserved for the in-pod bridge. "
                                + "Please choose another one."),
                vmi("malformed MAC").set(I + "/0/macAddress", "'zz:00:00:00:00:01'").expect(
                        SI + "[0].macAddress", "interface " + SI + "[0].name has malformed MAC address (zz:00:00:00:00:01)."),
                vmi("unknown model").set(I + "/0/model", "virtio-net").expect(
                        SI + "[0].model", "interface " + SI + "[0].name uses model virtio-net that is not supported."),
                vmi("bad interface name").set(I + "/0/name", "'eth 0'").set("/spec/networks/0/name", "'eth 0'").expect(
                        SI + "[0].name", "Network interface name can only contain alphabetical characters, numbers, "
                                + "dashes (-) or underscores (_)"),
                vmi("port 0").set(I + "/0/ports", "[{port: 0}]").expect(
                        SI + "[0].ports[0].port", "Port field is mandatory."),
                vmi("port out of range").set(I + "/0/ports", "[{port: 70000}]").expect(
                        SI + "[0].ports[0].port", "Port field must be in range 0 < x < 65536."),
                vmi("port protocol").set(I + "/0/ports", "[{port: 22, protocol: SCTP}]").expect(
                        SI + "[0].ports[0].protocol", "Unknown protocol, only TCP or UDP allowed"),
                vmi("duplicate port name").set(I + "/0/ports", "[{port: 22, name: ssh}, {port: 23, name: ssh}]").expect(
                        SI + "[0].ports[1].name", "Duplicate name of the port: ssh"),
                vmi("bad interface state").set(I + "/0/state", "sleeping").expect(
                        SI + "[0].state", "logical default interface state value is unsupported: sleeping"),
                // memory, cpu, machine
                vmi("memory below 1M").set("/spec/domain/resources/requests/memory", "512k").expect(
                        "spec.domain.resources.requests.memory",
                        "spec.domain.resources.requests.memory '512k': must be greater than or equal to 1M."),
                vmi("negative memory").set("/spec/domain/resources/requests/memory", "'-64M'").expect(
                        "spec.domain.resources.requests.memory",
                        "spec.domain.resources.requests.memory '-64M': must be greater than or equal to 0."),
                vmi("memory request above limit").set("/spec/domain/resources/requests/memory", "128M")
                        .set("/spec/domain/resources/limits", "{memory: 64M}").expect(
                        "spec.domain.resources.requests.memory", "spec.domain.resources.requests.memory '128M' is "
                                + "greater than spec.domain.resources.limits.memory '64M'",
                        "spec.domain.memory.guest", "spec.domain.memory.guest '128M' must be equal to or less than the "
                                + "memory limit spec.domain.resources.limits.memory '64M'"),
                vmi("no memory").remove("/spec/domain/resources").expect(
                        "spec.domain.resources.requests.memory", "no memory requested, at least one of "
                                + "'spec.domain.memory.guest', 'spec.domain.memory.hugepages.pageSize' or "
                                + "'spec.domain.resources.requests.memory' must be set"),
                vmi("malformed memory").set("/spec/domain/resources/requests/memory", "64MB").expect(
                        "spec.domain.resources.requests.memory", "spec.domain.resources.requests.memory '64MB': " + MEM_RE,
                        "spec.domain.resources.requests.memory", "no memory requested, at least one of "
                                + "'spec.domain.memory.guest', 'spec.domain.memory.hugepages.pageSize' or "
                                + "'spec.domain.resources.requests.memory' must be set"),
                vmi("hugepages not a multiple").set("/spec/domain/memory", "{hugepages: {pageSize: 2Mi}}")
                        .set("/spec/domain/resources/requests/memory", "65M").expect(
                        "spec.domain.resources.requests.memory", "spec.domain.resources.requests.memory '65M' is not a "
                                + "multiple of the page size spec.domain.memory.hugepages.pageSize '2Mi'"),
                vmi("cpu request above limit").set("/spec/domain/resources/requests/cpu", "'2'")
                        .set("/spec/domain/resources/limits", "{cpu: '1'}").expect(
                        "spec.domain.resources.requests.cpu", "spec.domain.resources.requests.cpu '2' is greater than "
                                + "spec.domain.resources.limits.cpu '1'"),
                vmi("negative cores").set("/spec/domain/cpu", "{cores: -1}").expect(
                        "spec.domain.cpu.cores", "spec.domain.cpu.cores '-1': must be greater than or equal to 0."),
                vmi("sockets above maxSockets").set("/spec/domain/cpu", "{sockets: 4, maxSockets: 2}").expect(
                        "spec.domain.cpu.sockets", "Number of sockets in CPU topology is greater than the maximum "
                                + "sockets allowed"),
                vmi("isolateEmulatorThread alone").set("/spec/domain/cpu", "{isolateEmulatorThread: true}").expect(
                        "spec.domain.cpu.isolateEmulatorThread", "IsolateEmulatorThread should be only set in "
                                + "combination with DedicatedCPUPlacement"),
                vmi("dedicated cpus with fractional request").set("/spec/domain/cpu", "{dedicatedCpuPlacement: true}")
                        .set("/spec/domain/resources/requests/cpu", "1500m").expect(
                        "spec.domain.resources.requests.cpu", "provided resources CPU requests must be an interger"),
                vmi("machine type pc").set("/spec/domain/machine", "{type: pc}").expect(
                        "spec.domain.machine.type", "spec.domain.machine.type is not supported: pc (allowed values: "
                                + "[q35* pc-q35*])"),
                vmi("unsupported architecture").set("/spec/architecture", "riscv64").expect(
                        "spec.architecture", "unsupported architecture: riscv64"),
                // firmware
                vmi("EFI and BIOS").set("/spec/domain/firmware", "{bootloader: {bios: {}, efi: {secureBoot: false}}}")
                        .expect("spec.domain.firmware.bootloader", "spec.domain.firmware.bootloader has both EFI and BIOS "
                                + "configured, but they are mutually exclusive."),
                vmi("secure boot without SMM").set("/spec/domain/firmware", "{bootloader: {efi: {}}}").expect(
                        "spec.domain", "spec.domain has EFI SecureBoot enabled. SecureBoot requires SMM, which is "
                                + "currently disabled."),
                vmi("kernelArgs without kernel").set("/spec/domain/firmware", "{kernelBoot: {kernelArgs: quiet}}").expect(
                        "spec.domain.firmware.kernelBoot.kernelArgs", "kernel arguments cannot be provided without an "
                                + "external kernel"),
                vmi("kernelBoot container without paths").set("/spec/domain/firmware",
                        "{kernelBoot: {container: {image: quay.io/x/kernel:1}}}").expect(
                        "spec.domain.firmware.kernelBoot.container", "spec.domain.firmware.kernelBoot.container must be "
                                + "defined with at least one of the following: kernelPath, initrdPath"),
                vmi("kernelBoot relative kernelPath").set("/spec/domain/firmware",
                        "{kernelBoot: {container: {image: quay.io/x/kernel:1, kernelPath: boot/vmlinuz}}}").expect(
                        "spec.domain.firmware.kernelBoot.container.kernelPath", "spec.domain.firmware.kernelBoot."
                                + "container.kernelPath must be an absolute path to a file without relative components"),
                vmi("kernelBoot without image").set("/spec/domain/firmware",
                        "{kernelBoot: {container: {kernelPath: /boot/vmlinuz}}}").expect(
                        "spec.domain.firmware.kernelBoot.container.image", "spec.domain.firmware.kernelBoot.container "
                                + "must be defined with an image"),
                vmi("firmware uuid not a UUID").set("/spec/domain/firmware", "{uuid: not-a-uuid}").expect(
                        "spec.domain.firmware.uuid", "spec.domain.firmware.uuid 'not-a-uuid' is not a UUID "
                                + "(8-4-4-4-12 hexadecimal digits)"),
                // spec-level fields and metadata
                vmi("bad hostname").set("/spec/hostname", "My_Host").expect(
                        "spec.hostname", "spec.hostname does not conform to the kubernetes DNS_LABEL rules : " + DNS_LABEL),
                vmi("bad eviction strategy").set("/spec/evictionStrategy", "Sometimes").expect(
                        "spec.evictionStrategy", "spec.evictionStrategy is set with an unrecognized option: Sometimes"),
                vmi("bad start strategy").set("/spec/startStrategy", "Running").expect(
                        "spec.startStrategy", "spec.startStrategy is set with an unrecognized option: Running"),
                vmi("reserved label").set("/metadata/labels", "{kubevirt.io/nodeName: n1}").expect(
                        "metadata.labels", "creation of the following reserved kubevirt.io/ labels on a VMI object is "
                                + "prohibited"),
                vmi("no name").remove("/metadata/name").expect("metadata.name", "name or generateName is required"),
                vmi("no domain").remove("/spec/domain").expect("spec.domain", "spec.domain in body is required"),
                // VMs
                vm("running and runStrategy").set("/spec/runStrategy", "Always").expect(
                        "spec.running", "Running and RunStrategy are mutually exclusive. Note that Running is deprecated, "
                                + "please use RunStrategy instead"),
                vm("neither running nor runStrategy").remove("/spec/running").expect(
                        "spec.running", "RunStrategy must be specified"),
                vm("unknown runStrategy").remove("/spec/running").set("/spec/runStrategy", "Sometimes").expect(
                        "spec.runStrategy", "Invalid RunStrategy (Sometimes), allowed: Halted, Manual, Always, "
                                + "RerunOnFailure, Once"),
                vm("no template").remove("/spec/template").expect("spec.template", "missing virtual machine template."),
                vm("template disk without volume").set("/spec/template/spec/domain/devices/disks/-", "{name: data}")
                        .expect("spec.template.spec.domain.devices.disks[1].name",
                                "spec.template.spec.domain.devices.disks[1].Name 'data' not found."),
                vm("template reserved label").set("/spec/template/metadata", "{labels: {kubevirt.io/created-by: x}}")
                        .expect("spec.template.metadata.labels", "creation of the following reserved kubevirt.io/ "
                                + "labels on a VMI object is prohibited"),
                vm("template bad bus").set("/spec/template/spec/domain/devices/disks/0/disk/bus", "ide").expect(
                        "spec.template.spec.domain.devices.disks[0].disk.bus", "IDE bus is not supported"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void reportsExactPathAndMessage(Case c) throws Exception {
        ObjectNode root = (ObjectNode) KubevirtJson.yaml().readTree(c.base());
        c.edits().forEach(e -> e.accept(root));
        LoadedManifest m = ManifestLoader.loadString(KubevirtJson.toJson(root), c.name()).get(0);
        assertEquals(c.expected(), m.validate(c.gates()), () -> "got " + m.validate(c.gates()));
    }

    @Test
    void bothBasesAreValid() throws Exception {
        assertEquals(List.of(), ManifestLoader.loadString(VMI, "vmi").get(0).validate());
        assertEquals(List.of(), ManifestLoader.loadString(VM, "vm").get(0).validate());
    }

    @Test
    void vmWithoutMemoryIsAdmittedButItsVmiIsNot() throws Exception {
        String vm = VM.replace("resources: {requests: {memory: 64M}}", "resources: {}");
        LoadedManifest m = ManifestLoader.loadString(vm, "vm").get(0);
        assertEquals(List.of(), m.validate());
        assertEquals(1, VmiValidator.validate(m.vmi()).size());
    }

    @Test
    void allErrorsAtOnceAndThrown() throws Exception {
        ObjectNode root = (ObjectNode) KubevirtJson.yaml().readTree(VMI);
        ((ObjectNode) root.at("/spec/domain/devices/disks/0/disk")).put("bus", "ide");
        ((ObjectNode) root.at("/spec/domain")).set("machine", yaml("{type: pc}"));
        ((ObjectNode) root.at("/spec")).put("hostname", "UPPER");
        VirtualMachineInstance vmi = ManifestLoader.loadString(root.toString(), "x").get(0).vmi();
        List<FieldError> errors = VmiValidator.validate(vmi);
        assertEquals(List.of("spec.hostname", "spec.domain.machine.type", SD + "[0].disk.bus"),
                errors.stream().map(FieldError::path).toList());
        ValidationException e = assertThrows(ValidationException.class, () -> VmiValidator.validateOrThrow(vmi));
        assertEquals(errors, e.errors());
        assertEquals(true, e.getMessage().startsWith("VirtualMachineInstance t is invalid (3 errors):"));
        // the VMI given is not changed
        assertEquals(null, vmi.getSpec().getDomain().getCpu());
    }

    @Test
    void validImageReferences() throws Exception {
        for (String image : Arrays.asList("busybox", "quay.io/kubevirt/cirros-container-disk-demo:v1.4.0",
                "localhost:5000/qvirt/testguest:latest", "registry.example.com/a/b/c@sha256:"
                        + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "127.0.0.1:5000/guest", "[::1]:5000/guest:dev")) {
            ObjectNode root = (ObjectNode) KubevirtJson.yaml().readTree(VMI);
            ((ObjectNode) root.at("/spec/volumes/0/containerDisk")).put("image", image);
            assertEquals(List.of(), ManifestLoader.loadString(root.toString(), image).get(0).validate(), image);
        }
    }
}
