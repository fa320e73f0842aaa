/* The benchmark's yardstick: libyaml alone pulling every event of a file, on one thread, doing nothing with
   them. Issue 8 states its targets against this figure ("libyaml alone needs about 0.06 s"); measuring it on the
   same machine in the same minute as `attache translate` makes the comparison independent of the machine's speed.
   Usage: libyaml_floor FILE  → prints "<events> <milliseconds>". */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <yaml.h>

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: libyaml_floor FILE\n"); return 2; }
    FILE *file = fopen(argv[1], "rb");
    if (!file) { perror(argv[1]); return 2; }
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    fseek(file, 0, SEEK_SET);
    unsigned char *bytes = malloc(size > 0 ? size : 1);
    if (!bytes || fread(bytes, 1, size, file) != (size_t)size) { fprintf(stderr, "cannot read %s\n", argv[1]); return 2; }
    fclose(file);

    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, bytes, size);
    long events = 0;
    for (;;) {
        yaml_event_t event;
        if (!yaml_parser_parse(&parser, &event)) { fprintf(stderr, "YAML error: %s\n", parser.problem); return 1; }
        int type = event.type;
        yaml_event_delete(&event);
        events++;
        if (type == YAML_STREAM_END_EVENT) break;
    }
    yaml_parser_delete(&parser);
    clock_gettime(CLOCK_MONOTONIC, &end);
    printf("%ld %.3f\n", events, (end.tv_sec - start.tv_sec) * 1e3 + (end.tv_nsec - start.tv_nsec) / 1e6);
    free(bytes);
    return 0;
}
