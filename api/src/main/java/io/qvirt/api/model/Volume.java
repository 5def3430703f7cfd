package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/** A volume; exactly one source. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Volume extends Extensible {
    private String name;

    private ContainerDiskSource containerDisk;

    private CloudInitSource cloudInitNoCloud;

    private CloudInitSource cloudInitConfigDrive;

    private EmptyDiskSource emptyDisk;

    private HostDisk hostDisk;

    private PersistentVolumeClaimSource persistentVolumeClaim;

    private DataVolumeSource dataVolume;

    private EphemeralVolumeSource ephemeral;

    private ConfigMapVolumeSource configMap;

    private SecretVolumeSource secret;

    private ServiceAccountVolumeSource serviceAccount;

    private DownwardAPIVolumeSource downwardAPI;

    public String getName() {
        return name;
    }

    public void setName(String name) {
        this.name = name;
    }

    public ContainerDiskSource getContainerDisk() {
        return containerDisk;
    }

    public void setContainerDisk(ContainerDiskSource containerDisk) {
        this.containerDisk = containerDisk;
    }

    public CloudInitSource getCloudInitNoCloud() {
        return cloudInitNoCloud;
    }

    public void setCloudInitNoCloud(CloudInitSource cloudInitNoCloud) {
        this.cloudInitNoCloud = cloudInitNoCloud;
    }

    public CloudInitSource getCloudInitConfigDrive() {
        return cloudInitConfigDrive;
    }

    public void setCloudInitConfigDrive(CloudInitSource cloudInitConfigDrive) {
        this.cloudInitConfigDrive = cloudInitConfigDrive;
    }

    public EmptyDiskSource getEmptyDisk() {
        return emptyDisk;
    }

    public void setEmptyDisk(EmptyDiskSource emptyDisk) {
        this.emptyDisk = emptyDisk;
    }

    public HostDisk getHostDisk() {
        return hostDisk;
    }

    public void setHostDisk(HostDisk hostDisk) {
        this.hostDisk = hostDisk;
    }

    public PersistentVolumeClaimSource getPersistentVolumeClaim() {
        return persistentVolumeClaim;
    }

    public void setPersistentVolumeClaim(PersistentVolumeClaimSource persistentVolumeClaim) {
        this.persistentVolumeClaim = persistentVolumeClaim;
    }

    public DataVolumeSource getDataVolume() {
        return dataVolume;
    }

    public void setDataVolume(DataVolumeSource dataVolume) {
        this.dataVolume = dataVolume;
    }

    public EphemeralVolumeSource getEphemeral() {
        return ephemeral;
    }

    public void setEphemeral(EphemeralVolumeSource ephemeral) {
        this.ephemeral = ephemeral;
    }

    public ConfigMapVolumeSource getConfigMap() {
        return configMap;
    }

    public void setConfigMap(ConfigMapVolumeSource configMap) {
        this.configMap = configMap;
    }

    public SecretVolumeSource getSecret() {
        return secret;
    }

    public void setSecret(SecretVolumeSource secret) {
        this.secret = secret;
    }

    public ServiceAccountVolumeSource getServiceAccount() {
        return serviceAccount;
    }

    public void setServiceAccount(ServiceAccountVolumeSource serviceAccount) {
        this.serviceAccount = serviceAccount;
    }

    public DownwardAPIVolumeSource getDownwardAPI() {
        return downwardAPI;
    }

    public void setDownwardAPI(DownwardAPIVolumeSource downwardAPI) {
        this.downwardAPI = downwardAPI;
    }
}
