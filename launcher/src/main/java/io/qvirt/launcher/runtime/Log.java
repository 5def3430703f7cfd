package io.qvirt.launcher.runtime;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.time.Instant;

/** The launcher's messages on stderr: plain lines, or JSON lines as KubeVirt's components log. */
public final class Log {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final PrintWriter err;
    private final boolean json;

    public Log(PrintWriter err, boolean json) {
        this.err = err;
        this.json = json;
    }

    public void info(String msg) {
        write("info", msg);
    }

    public void warn(String msg) {
        write("warning", msg);
    }

    public void error(String msg) {
        write("error", msg);
    }

    private synchronized void write(String level, String msg) {
        if (json) {
            ObjectNode n = JSON.createObjectNode();
            n.put("timestamp", Instant.now().toString());
            n.put("level", level);
            n.put("component", "qvirt-launcher");
            n.put("msg", msg);
            err.println(n);
        } else {
            err.println((level.equals("info") ? "" : level + ": ") + msg);
        }
        err.flush();
    }
}
