bench/printrate: bench/printrate.c src/events_print.h \
 src/events_session.h src/options.h bpf/sock.h src/run.h bpf/events.h \
 bpf/sock.h
src/events_print.h:
src/events_session.h:
src/options.h:
bpf/sock.h:
src/run.h:
bpf/events.h:
bpf/sock.h:
