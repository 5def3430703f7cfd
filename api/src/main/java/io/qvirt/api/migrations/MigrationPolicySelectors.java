package io.qvirt.api.migrations;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.qvirt.api.model.Extensible;
import java.util.Map;

/**
 * KubeVirt's {@code Selectors} of a migration policy: labels the VMI's namespace and the VMI must both carry (each an
 * exact key and value; none given matches all).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class MigrationPolicySelectors extends Extensible {
    private Map<String, String> namespaceSelector;

    private Map<String, String> virtualMachineInstanceSelector;

    public Map<String, String> getNamespaceSelector() {
        return namespaceSelector;
    }

    public void setNamespaceSelector(Map<String, String> namespaceSelector) {
        this.namespaceSelector = namespaceSelector;
    }

    public Map<String, String> getVirtualMachineInstanceSelector() {
        return virtualMachineInstanceSelector;
    }

    public void setVirtualMachineInstanceSelector(Map<String, String> virtualMachineInstanceSelector) {
        this.virtualMachineInstanceSelector = virtualMachineInstanceSelector;
    }
}
