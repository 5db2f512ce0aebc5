/* A server that starts as root and forks a worker that gives up root's rights for another user's,
 * as nginx, Apache and sshd do: run under the Linux layer by the attack test.
 *
 *   drop_probe UID:GID PORT
 *
 * Each connection it makes (to its own listener on PORT, closed at once) is printed as
 * "connection <phase> <client's local port>", phases "root-before", "worker-as-root",
 * "worker-as-user" and "root-after". After the drop the worker prints what of root's channel it
 * still holds: "descriptors <n>" (descriptors naming a file in a rings directory), "mappings <n>"
 * (mappings of root's ring files), "truncate <errno name>" (its attempt to truncate root's ring by
 * name). Exit 0 when everything ran, 1 otherwise. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int listener;

static int connection(const char* phase, int port) {
  int client = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in to = {0};
  to.sin_family = AF_INET;
  to.sin_port = htons((unsigned short)port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (client < 0 || connect(client, (struct sockaddr*)&to, sizeof(to)) != 0) return -1;
  int server = accept(listener, NULL, NULL);
  if (server < 0) return -1;
  struct sockaddr_in local = {0};
  socklen_t length = sizeof(local);
  getsockname(client, (struct sockaddr*)&local, &length);
  close(client);
  char byte;
  while (read(server, &byte, 1) > 0) {
  }
  close(server);
  printf("connection %s %d\n", phase, ntohs(local.sin_port));
  fflush(stdout);
  return 0;
}

/* Descriptors of this process naming a file in a rings directory. */
static int ring_descriptors(void) {
  DIR* fds = opendir("/proc/self/fd");
  if (fds == NULL) return -1;
  int found = 0;
  struct dirent* entry;
  while ((entry = readdir(fds)) != NULL) {
    char path[300];
    char target[PATH_MAX];
    snprintf(path, sizeof(path), "/proc/self/fd/%s", entry->d_name);
    ssize_t n = readlink(path, target, sizeof(target) - 1);
    if (n <= 0) continue;
    target[n] = '\0';
    if (strstr(target, "/rings/") != NULL) ++found;
  }
  closedir(fds);
  return found;
}

/* Mappings of this process of a file named `ring_path`. */
static int ring_mappings(const char* ring_path) {
  FILE* maps = fopen("/proc/self/maps", "r");
  if (maps == NULL) return -1;
  int found = 0;
  char line[PATH_MAX + 256];
  while (fgets(line, sizeof(line), maps) != NULL) {
    if (strstr(line, ring_path) != NULL) ++found;
  }
  fclose(maps);
  return found;
}

int main(int argc, char** argv) {
  unsigned uid = 0, gid = 0;
  if (argc != 3 || sscanf(argv[1], "%u:%u", &uid, &gid) != 2) return 1;
  int port = atoi(argv[2]);
  listener = socket(AF_INET, SOCK_STREAM, 0);
  int on = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  struct sockaddr_in at = {0};
  at.sin_family = AF_INET;
  at.sin_port = htons((unsigned short)port);
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listener, (struct sockaddr*)&at, sizeof(at)) != 0 || listen(listener, 8) != 0) return 1;
  if (connection("root-before", port) != 0) return 1;
  char ring_path[PATH_MAX];
  snprintf(ring_path, sizeof(ring_path), "%s/rings/ring-0", getenv("TEARDOWN_CHANNEL"));
  pid_t worker = fork();
  if (worker == 0) {
    if (connection("worker-as-root", port) != 0) _exit(1);
    if (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(uid) != 0) _exit(1);
    printf("descriptors %d\n", ring_descriptors());
    printf("mappings %d\n", ring_mappings(ring_path));
    printf("truncate %s\n", truncate(ring_path, 0) == 0 ? "done" : strerrorname_np(errno));
    fflush(stdout);
    if (connection("worker-as-user", port) != 0) _exit(1);
    _exit(0);
  }
  int status = 0;
  if (worker < 0 || waitpid(worker, &status, 0) != worker || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0) {
    return 1;
  }
  if (connection("root-after", port) != 0) return 1;
  return 0;
}
