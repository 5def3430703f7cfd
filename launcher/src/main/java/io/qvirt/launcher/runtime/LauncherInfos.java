package io.qvirt.launcher.runtime;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.qvirt.launcher.plan.RuntimePaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Reading and writing {@code launcher.json} (atomically: a reader never sees half a file). */
public final class LauncherInfos {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private LauncherInfos() {
    }

    public static void write(RuntimePaths p, LauncherInfo info) {
        try {
            Path tmp = p.dir().resolve(".launcher.json.tmp");
            JSON.writeValue(tmp.toFile(), info);
            Files.move(tmp, p.launcherJson(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new LauncherException("cannot write " + p.launcherJson() + ": " + e.getMessage(), e);
        }
    }

    /** The VM's launcher.json, or null if it has none (yet). */
    public static LauncherInfo read(RuntimePaths p) {
        try {
            return Files.exists(p.launcherJson()) ? JSON.readValue(p.launcherJson().toFile(), LauncherInfo.class) : null;
        } catch (IOException e) {
            throw new LauncherException("cannot read " + p.launcherJson() + ": " + e.getMessage(), e);
        }
    }
}
