package io.qvirt.api.instancetype;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.qvirt.api.model.Extensible;

/** KubeVirt's {@code FeaturePreferences} ({@code preferredHyperv}, {@code preferredKvm} kept unmodelled). Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class FeaturePreferences extends Extensible {
    private io.qvirt.api.model.FeatureState preferredAcpi;

    private io.qvirt.api.model.FeatureAPIC preferredApic;

    private io.qvirt.api.model.FeatureState preferredPvspinlock;

    private io.qvirt.api.model.FeatureState preferredSmm;

    public io.qvirt.api.model.FeatureState getPreferredAcpi() {
        return preferredAcpi;
    }

    public void setPreferredAcpi(io.qvirt.api.model.FeatureState preferredAcpi) {
        this.preferredAcpi = preferredAcpi;
    }

    public io.qvirt.api.model.FeatureAPIC getPreferredApic() {
        return preferredApic;
    }

    public void setPreferredApic(io.qvirt.api.model.FeatureAPIC preferredApic) {
        this.preferredApic = preferredApic;
    }

    public io.qvirt.api.model.FeatureState getPreferredPvspinlock() {
        return preferredPvspinlock;
    }

    public void setPreferredPvspinlock(io.qvirt.api.model.FeatureState preferredPvspinlock) {
        this.preferredPvspinlock = preferredPvspinlock;
    }

    public io.qvirt.api.model.FeatureState getPreferredSmm() {
        return preferredSmm;
    }

    public void setPreferredSmm(io.qvirt.api.model.FeatureState preferredSmm) {
        this.preferredSmm = preferredSmm;
    }
}
