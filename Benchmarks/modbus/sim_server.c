/*
 * sim_server: a fast Modbus TCP device for scripts/bench-modbus.sh.
 *
 *   sim_server PORT STATS_FILE
 *
 * Serves every table from a libmodbus mapping (10000 coils, discrete inputs, holding and input
 * registers; register i holds i) to any number of clients at once, on 127.0.0.1:PORT. It counts the
 * requests it answered; on SIGUSR1 it writes the counts to STATS_FILE (replaced atomically):
 *
 *   requests N        every request answered
 *   cycle_marks M     reads of holding registers that start at address 0 (one per poll cycle
 *                     when the polled map's first holding point is at address 0)
 *   cpu_seconds S     CPU time of this process so far
 *
 * SIGTERM or SIGINT stops it.
 */
#include <errno.h>
#include <modbus.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <unistd.h>

static volatile sig_atomic_t want_stats = 0;
static volatile sig_atomic_t want_stop = 0;

static void on_usr1(int sig) { (void)sig; want_stats = 1; }
static void on_term(int sig) { (void)sig; want_stop = 1; }

static void write_stats(const char *path, unsigned long long requests, unsigned long long marks) {
    char tmp[4096];
    struct rusage usage;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    getrusage(RUSAGE_SELF, &usage);
    FILE *f = fopen(tmp, "w");
    if (f == NULL) return;
    fprintf(f, "requests %llu\ncycle_marks %llu\ncpu_seconds %.6f\n", requests, marks,
            usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6);
    fclose(f);
    rename(tmp, path);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s PORT STATS_FILE\n", argv[0]);
        return 2;
    }
    const char *stats = argv[2];
    modbus_t *ctx = modbus_new_tcp("127.0.0.1", atoi(argv[1]));
    modbus_mapping_t *map = modbus_mapping_new(10000, 10000, 10000, 10000);
    if (ctx == NULL || map == NULL) {
        fprintf(stderr, "sim_server: %s\n", modbus_strerror(errno));
        return 1;
    }
    for (int i = 0; i < 10000; i++) {
        map->tab_registers[i] = (uint16_t)i;
        map->tab_input_registers[i] = (uint16_t)i;
        map->tab_bits[i] = (uint8_t)(i % 3 == 0);
        map->tab_input_bits[i] = (uint8_t)(i % 2 == 0);
    }
    int server = modbus_tcp_listen(ctx, 64);
    if (server < 0) {
        fprintf(stderr, "sim_server: listen: %s\n", modbus_strerror(errno));
        return 1;
    }
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_usr1;
    sigaction(SIGUSR1, &action, NULL);
    action.sa_handler = on_term;
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    signal(SIGPIPE, SIG_IGN);

    fd_set all;
    FD_ZERO(&all);
    FD_SET(server, &all);
    int max_fd = server;
    unsigned long long requests = 0, marks = 0;
    uint8_t query[MODBUS_TCP_MAX_ADU_LENGTH];
    int header = modbus_get_header_length(ctx);
    write_stats(stats, 0, 0);

    while (!want_stop) {
        if (want_stats) {
            want_stats = 0;
            write_stats(stats, requests, marks);
        }
        fd_set ready = all;
        struct timeval timeout = {0, 20000};
        int n = select(max_fd + 1, &ready, NULL, NULL, &timeout);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("sim_server: select");
            break;
        }
        for (int fd = 0; fd <= max_fd && n > 0; fd++) {
            if (!FD_ISSET(fd, &ready)) continue;
            n--;
            if (fd == server) {
                int client = modbus_tcp_accept(ctx, &server);
                if (client >= 0) {
                    FD_SET(client, &all);
                    if (client > max_fd) max_fd = client;
                }
                continue;
            }
            modbus_set_socket(ctx, fd);
            int rc = modbus_receive(ctx, query);
            if (rc > 0) {
                modbus_reply(ctx, query, rc, map);
                requests++;
                int function = query[header];
                int address = (query[header + 1] << 8) | query[header + 2];
                if (function == 3 && address == 0) marks++;
            } else if (rc < 0) {
                close(fd);
                FD_CLR(fd, &all);
            }
        }
    }
    write_stats(stats, requests, marks);
    close(server);
    modbus_mapping_free(map);
    modbus_free(ctx);
    return 0;
}
