package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/** Image holding the kernel and initrd. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class KernelBootContainer extends Extensible {
    private String image;

    private String imagePullSecret;

    private String imagePullPolicy;

    private String kernelPath;

    private String initrdPath;

    public String getImage() {
        return image;
    }

    public void setImage(String image) {
        this.image = image;
    }

    public String getImagePullSecret() {
        return imagePullSecret;
    }

    public void setImagePullSecret(String imagePullSecret) {
        this.imagePullSecret = imagePullSecret;
    }

    public String getImagePullPolicy() {
        return imagePullPolicy;
    }

    public void setImagePullPolicy(String imagePullPolicy) {
        this.imagePullPolicy = imagePullPolicy;
    }

    public String getKernelPath() {
        return kernelPath;
    }

    public void setKernelPath(String kernelPath) {
        this.kernelPath = kernelPath;
    }

    public String getInitrdPath() {
        return initrdPath;
    }

    public void setInitrdPath(String initrdPath) {
        this.initrdPath = initrdPath;
    }
}
