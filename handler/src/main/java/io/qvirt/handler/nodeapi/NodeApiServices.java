package io.qvirt.handler.nodeapi;

import java.util.concurrent.ExecutorService;

/**
 * What a connection's handlers share with the server: the VMI operations, the executor that runs
 * everything that may block (QMP calls, file locks), and the console and port-forward bridges.
 */
record NodeApiServices(VmiOperations operations, ExecutorService blocking, ConsoleBridge console,
                       PortForwardBridge portForward) {
}
