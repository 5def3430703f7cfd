package io.qvirt.virtctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code virtctl migrate-cancel VM}: deletes the VM's migration in flight, as KubeVirt's virtctl does (it lists the
 * VirtualMachineInstanceMigrations labelled {@code kubevirt.io/vmi-name=VM} and deletes the first that is not final);
 * the controller then asks the source's handler to abort, and the VM runs on where it was.
 */
@Command(name = "migrate-cancel", description = "Cancel migration of a virtual machine.", mixinStandardHelpOptions = true,
        footer = {"", "Example:", "  # Cancel the migration of a virtual machine called 'myvm':", "  virtctl migrate-cancel myvm"})
final class MigrateCancelCommand extends BaseCommand {
    /** KubeVirt's {@code v1.MigrationSelectorLabel}: the VMI a migration moves. */
    static final String VMI_NAME_LABEL = "kubevirt.io/vmi-name";

    @Parameters(index = "0", paramLabel = "VM", description = "the VirtualMachine")
    String name;

    @Option(names = "--dry-run", arity = "0..1", description = "If true, the command is executed without performing any changes.")
    boolean dryRun;

    @Override
    int doCall() throws VirtctlException {
        try (Cluster c = cluster()) {
            String collection = "/apis/kubevirt.io/v1/namespaces/" + c.namespace() + "/virtualmachineinstancemigrations";
            Cluster.Response list = c.request("GET", collection + "?labelSelector="
                    + URLEncoder.encode(VMI_NAME_LABEL + "=" + name, StandardCharsets.UTF_8), null);
            if (!list.ok()) {
                throw Cluster.refusal(list, "virtualmachineinstancemigrations.kubevirt.io", null)
                        .prefixed("Error fetching virtual machine instance migration list ");
            }
            for (JsonNode m : Cluster.parse(list.body()).path("items")) {
                String phase = m.path("status").path("phase").asText("");
                if (phase.equals("Succeeded") || phase.equals("Failed")) {
                    continue;
                }
                String mig = m.path("metadata").path("name").asText();
                String body = dryRun ? "{\"dryRun\":[\"All\"]}" : null;
                Cluster.Response del = c.request("DELETE", collection + "/" + mig, body);
                if (!del.ok()) {
                    throw Cluster.refusal(del, "virtualmachineinstancemigrations.kubevirt.io", mig)
                            .prefixed("Error canceling migration " + mig + " of a VirtualMachine " + name + ": ");
                }
                out().printf("VM %s was scheduled to migrate-cancel%n", name);
                return ExitCodes.OK;
            }
            throw new VirtctlException.Failure("Found no migration to cancel for " + name, null);
        }
    }
}
