package io.qvirt.launcher.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * Where a VirtualMachine's instancetypes and preferences are found on one machine besides its own file (a picocli
 * mixin of {@code run}, {@code validate} and {@code render}): there is no API server to look them up in.
 */
final class InstancetypeOptions {
    @Option(names = "--instancetypes", paramLabel = "FILE|DIR",
            description = "VirtualMachine(Cluster)Instancetype and VirtualMachine(Cluster)Preference documents a VM's "
                    + "spec.instancetype / spec.preference may name, as if they were more documents of FILE: a YAML or "
                    + "JSON file, or a directory of them (*.yaml, *.yml, *.json; e.g. qvirt's common instancetypes in "
                    + "manifests/instancetypes); may be repeated")
    List<Path> sources = new ArrayList<>();

    List<Path> sources() {
        return List.copyOf(sources);
    }
}
