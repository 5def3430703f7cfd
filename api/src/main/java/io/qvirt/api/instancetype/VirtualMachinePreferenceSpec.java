package io.qvirt.api.instancetype;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.qvirt.api.model.Extensible;
import java.util.Map;

/** KubeVirt's {@code VirtualMachinePreferenceSpec}: values a VM gets where its template leaves them unset. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VirtualMachinePreferenceSpec extends Extensible {
    private CPUPreferences cpu;

    private DevicePreferences devices;

    private FeaturePreferences features;

    private FirmwarePreferences firmware;

    private MachinePreferences machine;

    private String preferredSubdomain;

    private Long preferredTerminationGracePeriodSeconds;

    /** What the VM (or its instancetype) must provide; refused otherwise. */
    private PreferenceRequirements requirements;

    private Map<String, String> annotations;

    private Long preferSpreadSocketToCoreRatio;

    private String preferredArchitecture;

    public CPUPreferences getCpu() {
        return cpu;
    }

    public void setCpu(CPUPreferences cpu) {
        this.cpu = cpu;
    }

    public DevicePreferences getDevices() {
        return devices;
    }

    public void setDevices(DevicePreferences devices) {
        this.devices = devices;
    }

    public FeaturePreferences getFeatures() {
        return features;
    }

    public void setFeatures(FeaturePreferences features) {
        this.features = features;
    }

    public FirmwarePreferences getFirmware() {
        return firmware;
    }

    public void setFirmware(FirmwarePreferences firmware) {
        this.firmware = firmware;
    }

    public MachinePreferences getMachine() {
        return machine;
    }

    public void setMachine(MachinePreferences machine) {
        this.machine = machine;
    }

    public String getPreferredSubdomain() {
        return preferredSubdomain;
    }

    public void setPreferredSubdomain(String preferredSubdomain) {
        this.preferredSubdomain = preferredSubdomain;
    }

    public Long getPreferredTerminationGracePeriodSeconds() {
        return preferredTerminationGracePeriodSeconds;
    }

    public void setPreferredTerminationGracePeriodSeconds(Long preferredTerminationGracePeriodSeconds) {
        this.preferredTerminationGracePeriodSeconds = preferredTerminationGracePeriodSeconds;
    }

    public PreferenceRequirements getRequirements() {
        return requirements;
    }

    public void setRequirements(PreferenceRequirements requirements) {
        this.requirements = requirements;
    }

    public Map<String, String> getAnnotations() {
        return annotations;
    }

    public void setAnnotations(Map<String, String> annotations) {
        this.annotations = annotations;
    }

    public Long getPreferSpreadSocketToCoreRatio() {
        return preferSpreadSocketToCoreRatio;
    }

    public void setPreferSpreadSocketToCoreRatio(Long preferSpreadSocketToCoreRatio) {
        this.preferSpreadSocketToCoreRatio = preferSpreadSocketToCoreRatio;
    }

    public String getPreferredArchitecture() {
        return preferredArchitecture;
    }

    public void setPreferredArchitecture(String preferredArchitecture) {
        this.preferredArchitecture = preferredArchitecture;
    }
}
