package io.qvirt.handler.nodeapi;

import io.qvirt.launcher.plan.RuntimePaths;
import java.net.InetSocketAddress;

/**
 * What the node API may do to a VMI on this node. Implemented by the handler's VMI driver; the node API
 * only routes, authenticates and relays. Every method checks the VMI (on this node, running, ...) and
 * throws {@link NodeApiException} with KubeVirt's status code and wording when it may not proceed.
 *
 * <p>The node API calls these from its own blocking threads, never from a Netty event loop, and
 * concurrently (several clients, several VMIs): they may block on QMP, but should bound their waits, since
 * a client waits for the answer. Any other exception is answered 500 with its one-line message. The
 * handler must not take a VM's {@code console.lock} in-process by other means (the launcher's
 * {@code ConsoleClient}): a Java file lock belongs to the process, and the node API keeps the handler's
 * own console locks itself.
 */
public interface VmiOperations {
    /** Pauses the guest. 404 unknown VMI / not on this node; 409 not running or already paused. */
    void pause(String namespace, String name);

    /** Resumes a paused guest. 404 as {@link #pause}; 409 not paused. */
    void unpause(String namespace, String name);

    /** Hard reset (QMP {@code system_reset}). 404 as {@link #pause}; 409 not running. */
    void reset(String namespace, String name);

    /**
     * The VM's runtime directory (its {@code console.sock} and {@code console.lock}), after checking the VMI
     * is on this node and its QEMU is up. 404/409 as {@link #pause}.
     */
    RuntimePaths consolePaths(String namespace, String name);

    /**
     * Where port-forward reaches {@code port} of the VMI's guest: the address and port the VM's launcher forwards
     * to it from the pod address (masquerade's forwards, as {@code launcher.json} lists them), after checking as
     * {@link #pause}. 404/409 as {@link #pause}; 400 when that guest port is not forwarded, naming those that are.
     *
     * @param port     1-65535
     * @param protocol {@code tcp} or {@code udp}
     */
    InetSocketAddress portForwardTarget(String namespace, String name, int port, String protocol);
}
