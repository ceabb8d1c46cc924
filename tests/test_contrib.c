// SPDX-License-Identifier: GPL-2.0-only
/* What contrib/ ships around the agent: the Grafana dashboard, the
 * Prometheus recording rules and alerts. promtool checks the rules and runs
 * their unit tests; the dashboard must have Grafana's structure; and every
 * expression of both must return data from a real Prometheus (Debian's)
 * that loaded the rules and scraped a real agent while the test made
 * traffic that exercises each: HTTP answered 200 and 404, a refused
 * connect, and a SYN dropped and retransmitted between two namespaces
 * (tests/contrib_traffic.sh). tests/contrib_check.py holds the checks. */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "test.h"
#include "helpers.h"
#include "flows_session.h"

#define PROMETHEUS "/usr/bin/prometheus"
#define PROMTOOL "/usr/bin/promtool"
#define DASHBOARD "contrib/grafana/sockeye.json"
#define RULES "contrib/prometheus/sockeye-rules.yml"
#define RULES_TESTS "contrib/prometheus/sockeye-rules_test.yml"

/* Runs argv; its output is printed, and its exit status checked. */
static void check_command(char *const argv[], const char *what)
{
	static char out[1 << 16], err[1 << 14];
	int status = run_capture(argv, out, sizeof(out), err, sizeof(err));

	printf("%s%s", out, err);
	ASSERT_EQ(status, 0, what);
}

static void need(const char *path, const char *package)
{
	char why[160];

	snprintf(why, sizeof(why), "%s is not installed (Debian package %s, scripts/deps.sh)",
		 path, package);
	if (access(path, X_OK))
		test_skip(why);
}

/* promtool's checks and unit tests of the rules; each alert documented
 * and tested; the example scrape configuration loads them. */
TEST(contrib_rules_pass_promtool_check_and_unit_tests)
{
	char *check[] = { PROMTOOL, "check", "rules", RULES, NULL };
	char *unit[] = { PROMTOOL, "test", "rules", RULES_TESTS, NULL };
	char *each[] = { "python3", "tests/contrib_check.py", "rules", RULES, RULES_TESTS,
			 "docs/agent.md", NULL };
	char *config[] = { "python3", "tests/contrib_check.py", "config", "contrib/prometheus.yml",
			   RULES, NULL };

	need(PROMTOOL, "prometheus");
	check_command(check, "promtool check rules");
	check_command(unit, "promtool test rules");
	check_command(each, "each alert: summary, runbook, a unit test firing it, docs");
	check_command(config, "contrib/prometheus.yml loads the rules");
}

TEST(contrib_dashboard_has_grafana_structure)
{
	char *argv[] = { "python3", "tests/contrib_check.py", "dashboard", DASHBOARD, NULL };

	check_command(argv, "dashboard structure");
}

/* Waits up to ms for url to answer 2xx. */
static bool answers(const char *url, int ms)
{
	char out[256], err[256];
	char *argv[] = { "curl", "-sf", "--max-time", "1", "-o", "/dev/null", (char *)url, NULL };

	for (int waited = 0; waited < ms; waited += 100) {
		if (run_capture(argv, out, sizeof(out), err, sizeof(err)) == 0)
			return true;
		sleep_ms(100);
	}
	return false;
}

struct server {
	pid_t pid;
	char url[64];
};

static void server_stop(struct server *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		ASSERT_EQ(wait_status(s->pid), 0, s->url);
	}
}

/* The agent, every collector the dashboard shows, refreshed every half
 * second, on a free port and a pin directory of its own. */
static bool agent_start(struct server *s, char *pin_dir, size_t len)
{
	char listen[32];
	char *argv[] = { (char *)sockeye_path(), "agent", "--listen", listen, "--pin-dir", pin_dir,
			 "--collectors", "bytes,tcp,flows,http", "-i", "0.5", NULL };
	uint16_t port = free_port();

	snprintf(pin_dir, len, "/sys/fs/bpf/sockeye-test-contrib-%d", getpid());
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
	snprintf(s->url, sizeof(s->url), "http://%s/healthz", listen);
	s->pid = spawn_logged(argv, "/dev/null", "/dev/null");
	return answers(s->url, ATTACH_WAIT_MS);
}

/* Prometheus with the rules, scraping the agent (job sockeye, as
 * contrib/prometheus.yml names it) and evaluating every second. */
static bool prometheus_start(struct server *s, const char *dir, uint16_t agent_port,
			     uint16_t port)
{
	char config[128], rules[PATH_MAX], arg_config[160], arg_storage[160], arg_listen[64];
	char *argv[] = { PROMETHEUS, arg_config, arg_storage, arg_listen, NULL };
	FILE *f;

	snprintf(config, sizeof(config), "%s/prometheus.yml", dir);
	f = fopen(config, "w");
	if (!f || !realpath(RULES, rules))
		return false;
	fprintf(f, "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
		"  evaluation_interval: 1s\nrule_files: ['%s']\n"
		"scrape_configs:\n  - job_name: sockeye\n    static_configs:\n"
		"      - targets: ['127.0.0.1:%u']\n", rules, agent_port);
	fclose(f);
	snprintf(arg_config, sizeof(arg_config), "--config.file=%s", config);
	snprintf(arg_storage, sizeof(arg_storage), "--storage.tsdb.path=%s/data", dir);
	snprintf(arg_listen, sizeof(arg_listen), "--web.listen-address=127.0.0.1:%u", port);
	snprintf(config, sizeof(config), "%s/log", dir);
	snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%u/-/ready", port);
	s->pid = spawn_logged(argv, config, config);
	return answers(s->url, 20000);
}

/* One scrape of the agent stored: the traffic's counters then move
 * between two samples, so rates and quantiles have something to show. */
static bool scraped(uint16_t port)
{
	char url[128];

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/api/v1/query?query=sockeye_build_info",
		 port);
	for (int waited = 0; waited < 10000; waited += 250) {
		char out[4096], err[256];
		char *argv[] = { "curl", "-sf", "--max-time", "1", url, NULL };

		if (run_capture(argv, out, sizeof(out), err, sizeof(err)) == 0 &&
		    strstr(out, "\"collectors\""))
			return true;
		sleep_ms(250);
	}
	return false;
}

KTEST(contrib_every_expression_returns_data)
{
	char dir[64], pin_dir[64], port_arg[8], name[16], out[256];
	uint16_t agent_port, prom_port = free_port();
	struct server agent = { 0 }, prom = { 0 };
	const bool reasons = flows_drop_reasons_given();
	char *traffic[] = { "tests/contrib_traffic.sh", name, NULL };
	char *check[] = { "python3", "tests/contrib_check.py", "live", port_arg, DASHBOARD, RULES,
			  /* What the traffic did, seen by Prometheus. */
			  "sockeye_tcp_retransmits_total{kind=\"syn\"} > 0",
			  /* The firewall's drop and the refused SYN's (no socket),
			   * by reason; where the kernel gives none, both under
			   * UNKNOWN and no other reason made up. */
			  reasons ? "sockeye_tcp_drops_total{reason=\"NETFILTER_DROP\"} > 0" :
				    "sockeye_tcp_drops_total{reason=\"UNKNOWN\"} > 1",
			  reasons ? "sockeye_tcp_drops_total{reason=\"NO_SOCKET\"} > 0" :
				    "absent(sockeye_tcp_drops_total{reason!=\"UNKNOWN\"})",
			  /* The datagram to a closed port. */
			  reasons ? "sockeye_udp_drops_total{reason=\"NO_SOCKET\"} > 0" :
				    "sockeye_udp_drops_total{reason=\"UNKNOWN\"} > 0",
			  "sockeye_tcp_connect_failures_total{reason=\"refused\"} > 0",
			  "sockeye_http_request_duration_seconds_count{role=\"server\","
			  "method=\"GET\",status=~\"404|4xx\"} > 0",
			  "sockeye_http_request_duration_seconds_count{role=\"client\","
			  "method=\"GET\",status=~\"200|2xx\"} > 0", NULL };
	char *rm[] = { "rm", "-rf", dir, pin_dir, NULL };
	int srv, cli, acc;
	uint16_t port, cport;

	need(PROMETHEUS, "prometheus");
	need("/usr/sbin/iptables", "iptables");
	need("/usr/bin/curl", "curl");
	snprintf(dir, sizeof(dir), "/tmp/sockeye-test-contrib-%d", getpid());
	snprintf(name, sizeof(name), "sc%d", getpid() % 1000000);
	snprintf(port_arg, sizeof(port_arg), "%u", prom_port);
	mkdir(dir, 0700);
	/* A connection open in the agent's own namespace for the whole check,
	 * whose gauge is the dashboard's "open now" panel: the traffic's are
	 * in namespaces of their own, and the scrapes' end with each scrape. */
	tcp_connection(AF_INET, &srv, &cli, &acc, &port, &cport);
	if (ASSERT_TRUE(agent_start(&agent, pin_dir, sizeof(pin_dir)), "agent serving") &&
	    (sscanf(agent.url, "http://127.0.0.1:%hu", &agent_port) == 1) &&
	    ASSERT_TRUE(prometheus_start(&prom, dir, agent_port, prom_port), "prometheus ready") &&
	    ASSERT_TRUE(scraped(prom_port), "the agent scraped once")) {
		check_command(traffic, "traffic in two namespaces");
		check_command(check, "every expression returns data");
	}
	server_stop(&prom);
	server_stop(&agent);
	close(acc);
	close(cli);
	close(srv);
	run_capture(rm, out, sizeof(out), out, sizeof(out));
}
