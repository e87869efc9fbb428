/* A stand-in guest PID 1 for kiln's QEMU tests until the real init lands: prints what it sees
 * (disks, virtio-serial port names), then either reports an exit on the console the way init does
 * (INFERNO-EXIT {json}) and reboots, or ignores every signal and hangs (stop escalation). */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void) {
  static char run[16384];
  int fd = open("/inferno/run.json", O_RDONLY);
  ssize_t n = fd >= 0 ? read(fd, run, sizeof run - 1) : -1;
  if (n < 0) n = 0;
  run[n] = 0;
  mkdir("/sys", 0755);
  mount("sysfs", "/sys", "sysfs", 0, NULL);
  printf("test-init: hello run.json=%zd bytes\n", n);
  printf("test-init: vda=%d vdb=%d\n", access("/sys/block/vda", F_OK) == 0,
         access("/sys/block/vdb", F_OK) == 0);
  DIR *d = opendir("/sys/class/virtio-ports");
  struct dirent *e;
  while (d && (e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char path[512], name[128] = {0};
    snprintf(path, sizeof path, "/sys/class/virtio-ports/%s/name", e->d_name);
    int f = open(path, O_RDONLY);
    if (f >= 0) {
      ssize_t k = read(f, name, sizeof name - 1);
      if (k > 0 && name[k - 1] == '\n') name[k - 1] = 0;
      close(f);
      printf("test-init: port %s\n", name);
    }
  }
  /* TestGuest.runConfig: the process argv is [mode, exit code] */
  if (strstr(run, "\"argv\":[\"hang\"")) {
    for (int s = 1; s < 32; s++) signal(s, SIG_IGN);
    reboot(RB_DISABLE_CAD);
    printf("test-init: hanging\n");
    fflush(stdout);
    for (;;) pause();
  }
  int code = 0;
  char *c = strstr(run, "\"argv\":[\"exit\",\"");
  if (c) code = atoi(c + strlen("\"argv\":[\"exit\",\""));
  printf("INFERNO-EXIT {\"code\":%d,\"signal\":null,\"oom\":false,\"started_ns\":1,"
         "\"finished_ns\":2,\"error\":null}\n", code);
  fflush(stdout);
  sync();
  reboot(RB_AUTOBOOT);
  return 0;
}
