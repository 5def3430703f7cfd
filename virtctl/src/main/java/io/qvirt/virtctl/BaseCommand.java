package io.qvirt.virtctl;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * Every virtctl command: returns an exit code; exceptions are mapped by {@link VirtctlCommand}. Nothing here names a
 * fabric8 type, so commands that never reach the API server ({@code version --client}, {@code create vm}) do not
 * load its client.
 */
abstract class BaseCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    VirtctlCommand root() {
        return (VirtctlCommand) spec.root().userObject();
    }

    Io io() {
        return root().io;
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    /** A connection to the API server of the kubeconfig's context (or the in-cluster one). */
    Cluster cluster() throws VirtctlException {
        VirtctlCommand r = root();
        return Cluster.connect(r.kubeconfig, r.context, r.namespace, r.requestTimeout(), io().env());
    }

    @Override
    public final Integer call() throws Exception {
        return doCall();
    }

    abstract int doCall() throws Exception;
}
