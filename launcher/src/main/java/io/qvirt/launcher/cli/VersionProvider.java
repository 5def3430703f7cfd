package io.qvirt.launcher.cli;

import io.qvirt.launcher.runtime.Version;
import picocli.CommandLine.IVersionProvider;

final class VersionProvider implements IVersionProvider {
    @Override
    public String[] getVersion() {
        return new String[] {"qvirt launcher " + Version.QVIRT};
    }
}
