// Pseudo-terminals for the servo emulator (loaded by hw/emulator/pty_addon.ts): one call opens a
// master/slave pair the way pts(4) and posix_openpt(3) describe it — posix_openpt(O_RDWR |
// O_NOCTTY), grantpt, unlockpt, ptsname_r — opens the slave, makes it raw with cfmakeraw(3) at
// the bus's baud rate (termios(3)), and hands back both descriptors and the slave's path. The
// master is non-blocking and close-on-exec, ready for a libuv stream; the slave descriptor is the
// emulator's own hold on the device, so a host closing and reopening it never leaves the master
// without a slave (measured on Linux: once the last slave descriptor closes, reading the master
// fails with EIO).
//
// Plain Node-API (C), no exceptions, no threads: it is its own target (dynastack_pty) so the
// emulator does not depend on the ensemble kernels' build, flags or code.
#include <node_api.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

namespace {

napi_value throwErrno(napi_env env, const char* what, int err) {
  char message[256];
  snprintf(message, sizeof message, "%s: %s", what, strerror(err));
  napi_throw_error(env, nullptr, message);
  return nullptr;
}

/** The termios speed constant for a rate, or B0 when the platform has none for it. */
speed_t speedFor(double rate) {
  struct Entry {
    double rate;
    speed_t speed;
  };
  static const Entry table[] = {
    {9600, B9600},
    {19200, B19200},
    {38400, B38400},
    {57600, B57600},
    {115200, B115200},
    {230400, B230400},
#ifdef B460800
    {460800, B460800},
#endif
#ifdef B500000
    {500000, B500000},
#endif
#ifdef B576000
    {576000, B576000},
#endif
#ifdef B921600
    {921600, B921600},
#endif
#ifdef B1000000
    {1000000, B1000000},
#endif
#ifdef B1152000
    {1152000, B1152000},
#endif
#ifdef B1500000
    {1500000, B1500000},
#endif
#ifdef B2000000
    {2000000, B2000000},
#endif
#ifdef B2500000
    {2500000, B2500000},
#endif
#ifdef B3000000
    {3000000, B3000000},
#endif
#ifdef B3500000
    {3500000, B3500000},
#endif
#ifdef B4000000
    {4000000, B4000000},
#endif
  };
  for (const Entry& e : table)
    if (e.rate == rate) return e.speed;
  return B0;
}

bool setInt(napi_env env, napi_value object, const char* key, int value) {
  napi_value v;
  return napi_create_int32(env, value, &v) == napi_ok && napi_set_named_property(env, object, key, v) == napi_ok;
}

/**
 * openPty(baudRate: number): { master: number, slave: number, path: string, baudRate: number }
 * baudRate in the result: the rate set on the slave, or 0 when termios has no constant for the one
 * asked (a pty carries no wire, so its speed is only what tcgetattr reports to the host).
 */
napi_value OpenPty(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return nullptr;
  double rate = 0;
  if (argc < 1 || napi_get_value_double(env, argv[0], &rate) != napi_ok || !(rate > 0)) {
    napi_throw_type_error(env, nullptr, "openPty(baudRate): baudRate must be a positive number");
    return nullptr;
  }

  int flags = O_RDWR | O_NOCTTY;
#ifdef __linux__
  flags |= O_CLOEXEC;  // glibc and musl pass the flags on to open("/dev/ptmx"): no window before FD_CLOEXEC
#endif
  const int master = posix_openpt(flags);
  if (master < 0) return throwErrno(env, "posix_openpt", errno);
  const auto fail = [&](const char* what, int slave = -1) {
    const int err = errno;
    if (slave >= 0) close(slave);
    close(master);
    return throwErrno(env, what, err);
  };
  if (fcntl(master, F_SETFD, FD_CLOEXEC) < 0) return fail("fcntl(FD_CLOEXEC)");
  const int status = fcntl(master, F_GETFL);
  if (status < 0 || fcntl(master, F_SETFL, status | O_NONBLOCK) < 0) return fail("fcntl(O_NONBLOCK)");
  if (grantpt(master) < 0) return fail("grantpt");
  if (unlockpt(master) < 0) return fail("unlockpt");
  char path[128];
#if defined(__linux__) || defined(__APPLE__)
  const int named = ptsname_r(master, path, sizeof path);
  if (named != 0) {
    errno = named > 0 ? named : errno;
    return fail("ptsname_r");
  }
#else
  const char* name = ptsname(master);
  if (!name) return fail("ptsname");
  snprintf(path, sizeof path, "%s", name);
#endif

  int slaveFlags = O_RDWR | O_NOCTTY;
#ifdef O_CLOEXEC
  slaveFlags |= O_CLOEXEC;
#endif
  const int slave = open(path, slaveFlags);
  if (slave < 0) return fail("open slave");
  if (fcntl(slave, F_SETFD, FD_CLOEXEC) < 0) return fail("fcntl(slave, FD_CLOEXEC)", slave);
  struct termios tio;
  if (tcgetattr(slave, &tio) < 0) return fail("tcgetattr", slave);
  cfmakeraw(&tio);
  tio.c_cflag |= CLOCAL | CREAD;
  tio.c_cc[VMIN] = 1;
  tio.c_cc[VTIME] = 0;
  const speed_t speed = speedFor(rate);
  if (speed != B0 && (cfsetispeed(&tio, speed) < 0 || cfsetospeed(&tio, speed) < 0)) return fail("cfsetspeed", slave);
  if (tcsetattr(slave, TCSANOW, &tio) < 0) return fail("tcsetattr", slave);

  napi_value result, pathValue;
  if (napi_create_object(env, &result) != napi_ok || !setInt(env, result, "master", master) ||
      !setInt(env, result, "slave", slave) || !setInt(env, result, "baudRate", speed != B0 ? (int)rate : 0) ||
      napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &pathValue) != napi_ok ||
      napi_set_named_property(env, result, "path", pathValue) != napi_ok) {
    close(slave);
    close(master);
    napi_throw_error(env, nullptr, "openPty: could not build the result");
    return nullptr;
  }
  return result;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "openPty", NAPI_AUTO_LENGTH, OpenPty, nullptr, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "openPty", fn) != napi_ok)
    return nullptr;
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
