import java.time.Duration;
import java.util.Collection;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.common.Node;

/**
 * Readiness probe used by deploy/local/infra.sh.
 *
 * Performs real admin round trips (DescribeCluster + ListTopics) against the broker
 * and exits 0 only when at least one unfenced broker is registered.
 *
 * Usage: java -cp '<classes>:<kafka-libs>/*' KafkaReady [bootstrap] [timeoutMs]
 */
public final class KafkaReady {
    private KafkaReady() {
    }

    public static void main(String[] args) {
        String bootstrap = args.length > 0 ? args[0] : "127.0.0.1:9092";
        int timeoutMs = args.length > 1 ? Integer.parseInt(args[1]) : 8000;

        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(AdminClientConfig.CLIENT_ID_CONFIG, "local-infra-readiness");
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, Math.min(5000, timeoutMs));
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, timeoutMs);
        props.put(AdminClientConfig.RETRY_BACKOFF_MS_CONFIG, 200);

        int status;
        Admin admin = Admin.create(props);
        try {
            DescribeClusterResult cluster = admin.describeCluster();
            Collection<Node> nodes = cluster.nodes().get(timeoutMs, TimeUnit.MILLISECONDS);
            String clusterId = cluster.clusterId().get(timeoutMs, TimeUnit.MILLISECONDS);
            Set<String> topics = admin.listTopics(new ListTopicsOptions().listInternal(true))
                    .names().get(timeoutMs, TimeUnit.MILLISECONDS);
            if (nodes.isEmpty()) {
                System.err.println("not ready: no broker registered yet");
                status = 1;
            } else {
                System.out.printf("ready: cluster=%s brokers=%d topics=%d%n", clusterId, nodes.size(), topics.size());
                status = 0;
            }
        } catch (Exception e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            System.err.println("not ready: " + cause.getClass().getSimpleName() + ": " + cause.getMessage());
            status = 1;
        } finally {
            admin.close(Duration.ofSeconds(2));
        }
        System.exit(status);
    }
}
