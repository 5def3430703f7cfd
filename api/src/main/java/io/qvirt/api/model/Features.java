package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/** Machine features. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Features extends Extensible {
    private FeatureState acpi;

    private FeatureAPIC apic;

    private FeatureState smm;

    private FeatureState pvspinlock;

    public FeatureState getAcpi() {
        return acpi;
    }

    public void setAcpi(FeatureState acpi) {
        this.acpi = acpi;
    }

    public FeatureAPIC getApic() {
        return apic;
    }

    public void setApic(FeatureAPIC apic) {
        this.apic = apic;
    }

    public FeatureState getSmm() {
        return smm;
    }

    public void setSmm(FeatureState smm) {
        this.smm = smm;
    }

    public FeatureState getPvspinlock() {
        return pvspinlock;
    }

    public void setPvspinlock(FeatureState pvspinlock) {
        this.pvspinlock = pvspinlock;
    }
}
