package io.qvirt.virtctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Option;

/**
 * {@code virtctl version}: the client's version, and the server's from virt-api's
 * {@code GET /apis/subresources.kubevirt.io/v1/version}. {@code --client} never loads the API client.
 */
@Command(name = "version", description = "Print the client and server version information.", mixinStandardHelpOptions = true)
final class VersionCommand extends BaseCommand {
    @Option(names = {"-c", "--client"}, description = "Client version only (no server required).")
    boolean clientOnly;

    @Override
    int doCall() throws VirtctlException {
        out().println(clientLine());
        if (clientOnly) {
            return ExitCodes.OK;
        }
        out().flush();
        JsonNode v;
        try (Cluster c = cluster()) {
            v = c.subresourceGet("/version");
        } catch (VirtctlException.Api e) {
            throw e.prefixed("failed to get server version: ");
        }
        out().println("Server Version: " + info(v.path("gitVersion").asText(), v.path("gitCommit").asText(),
                v.path("gitTreeState").asText(), v.path("buildDate").asText(), v.path("goVersion").asText(),
                v.path("compiler").asText(), v.path("platform").asText()));
        return ExitCodes.OK;
    }

    /** {@code Client Version: version.Info{...}}, as KubeVirt's virtctl prints it. */
    static String clientLine() {
        return "Client Version: " + info(clientVersion(), "", "", "", "java" + System.getProperty("java.version"),
                "javac", System.getProperty("os.name").toLowerCase(java.util.Locale.ROOT) + "/" + arch());
    }

    static String info(String version, String commit, String treeState, String buildDate, String goVersion,
            String compiler, String platform) {
        return "version.Info{GitVersion:\"" + version + "\", GitCommit:\"" + commit + "\", GitTreeState:\"" + treeState
                + "\", BuildDate:\"" + buildDate + "\", GoVersion:\"" + goVersion + "\", Compiler:\"" + compiler
                + "\", Platform:\"" + platform + "\"}";
    }

    static String arch() {
        String a = System.getProperty("os.arch");
        return "x86_64".equals(a) ? "amd64" : "aarch64".equals(a) ? "arm64" : a;
    }

    /** qvirt's version, from the jar (filtered at build time). */
    static String clientVersion() {
        Properties p = new Properties();
        try (InputStream in = VersionCommand.class.getResourceAsStream("version.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            return "unknown";
        }
        return "v" + p.getProperty("version", "unknown");
    }

    static final class Provider implements IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"virtctl (qvirt) " + clientVersion()};
        }
    }
}
