/* jansson_decode.c: the baseline of the replay benchmark: read the same
 * JSON Lines and only decode each with jansson (build the tree, read the
 * fields soakwatch needs, free it). Prints lines and events/s. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: jansson_decode FILE\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (f == NULL) {
        perror(argv[1]);
        return 2;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned long long lines = 0, objects = 0, sum = 0;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    while ((n = getline(&line, &cap, f)) > 0) {
        json_error_t err;
        json_t *doc = json_loadb(line, (size_t)n, 0, &err);
        lines++;
        if (doc == NULL)
            continue;
        if (json_is_object(doc)) {
            objects++;
            sum += json_string_length(json_object_get(doc, "event"));
            sum += (unsigned long long)json_integer_value(json_object_get(doc, "status"));
            sum += (unsigned long long)json_number_value(json_object_get(doc, "durationMs"));
        }
        json_decref(doc);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    printf("%llu lines %llu objects %.3f s %.0f events/s (checksum %llu)\n", lines, objects, s,
           (double)lines / s, sum);
    free(line);
    fclose(f);
    return 0;
}
