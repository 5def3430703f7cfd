package io.qvirt.launcher.cli;

import io.qvirt.api.NetworkSettings;
import picocli.CommandLine.Option;

/**
 * The KubeVirt CR's {@code spec.configuration.network} settings on one machine, as flags (a picocli mixin of
 * {@code run}, {@code validate} and {@code render}): they decide the interface a manifest that declares none gets,
 * and whether bridge may bind to the pod network. Defaults: {@link NetworkSettings#QVIRT_DEFAULTS}.
 */
final class NetworkOptions {
    @Option(names = "--default-network-interface", paramLabel = "masquerade|bridge",
            description = "binding of the interface a VM with no interfaces and no networks gets on the pod network "
                    + "(KubeVirt's defaultNetworkInterface; default: masquerade, qvirt's; KubeVirt's is bridge, which "
                    + "qvirt cannot run on one machine)")
    String defaultNetworkInterface = NetworkSettings.QVIRT_DEFAULTS.defaultNetworkInterface();

    @Option(names = "--permit-bridge-interface-on-pod-network", paramLabel = "true|false", arity = "1",
            description = "KubeVirt's permitBridgeInterfaceOnPodNetwork (default: true, as KubeVirt): false refuses "
                    + "bridge on the pod network as KubeVirt's webhook does")
    boolean permitBridgeInterfaceOnPodNetwork = NetworkSettings.QVIRT_DEFAULTS.permitBridgeInterfaceOnPodNetwork();

    /**
     * The checked settings.
     *
     * @throws IllegalArgumentException naming the flag and what is allowed
     */
    NetworkSettings settings() {
        if (!NetworkSettings.BINDINGS.contains(defaultNetworkInterface)) {
            throw new IllegalArgumentException("--default-network-interface: '" + defaultNetworkInterface
                    + "' is not allowed: " + String.join(", ", NetworkSettings.BINDINGS));
        }
        return new NetworkSettings(defaultNetworkInterface, permitBridgeInterfaceOnPodNetwork);
    }
}
