/*
 * Minimal closed-loop HTTP load client on libcurl's multi interface, the baseline that loadsmoke's CPU cost is
 * compared against. It drives the multi handle the way loadsmoke's LoadEngine does: one reusable easy handle per
 * worker, curl_multi_perform followed by curl_multi_poll, keep-alive connections, CURLMOPT_MAXCONNECTS equal to the
 * concurrency, latency taken as curl's total time minus its pre-transfer time. It keeps no body and parses nothing.
 *
 * Usage: curl_multi_client URL REQUESTS CONCURRENCY [MAX_SECONDS]
 * Prints one line of key=value pairs: requests, ok, failed, duration_s, rps, p50_ms, p99_ms (nearest rank).
 * Exits 1 when any request failed or MAX_SECONDS (default 120) ran out, 2 on a usage error.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double monotonic_seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/* Counts body bytes and drops them, so the client's cost does not grow with the body. */
static size_t discard_body(char *data, size_t size, size_t count, void *userdata) {
    (void)data;
    *(size_t *)userdata += size * count;
    return size * count;
}

static int compare_longs(const void *left, const void *right) {
    long a = *(const long *)left;
    long b = *(const long *)right;
    return (a > b) - (a < b);
}

/* Nearest-rank percentile of sorted values: the value at rank ceil(p/100 * n). */
static long percentile(const long *sorted, size_t count, double p) {
    if (count == 0) return -1;
    size_t rank = (size_t)((p / 100.0) * (double)count);
    if ((double)rank < (p / 100.0) * (double)count) rank += 1;
    if (rank < 1) rank = 1;
    return sorted[rank - 1];
}

static long parse_positive(const char *text, const char *name) {
    char *end = NULL;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < 1) {
        fprintf(stderr, "error: invalid %s '%s': expected a positive integer\n", name, text);
        exit(2);
    }
    return value;
}

int main(int argc, char **argv) {
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: %s URL REQUESTS CONCURRENCY [MAX_SECONDS]\n", argv[0]);
        return 2;
    }
    const char *url = argv[1];
    long request_count = parse_positive(argv[2], "REQUESTS");
    long concurrency = parse_positive(argv[3], "CONCURRENCY");
    long max_seconds = argc == 5 ? parse_positive(argv[4], "MAX_SECONDS") : 120;
    if (concurrency > request_count) concurrency = request_count;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "error: curl_global_init failed\n");
        return 1;
    }
    CURLM *multi = curl_multi_init();
    CURL **handles = calloc((size_t)concurrency, sizeof *handles);
    size_t *body_bytes = calloc((size_t)concurrency, sizeof *body_bytes);
    long *latencies_us = malloc((size_t)request_count * sizeof *latencies_us);
    if (multi == NULL || handles == NULL || body_bytes == NULL || latencies_us == NULL) {
        fprintf(stderr, "error: out of memory for %ld requests at concurrency %ld\n", request_count, concurrency);
        return 1;
    }
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, concurrency);

    for (long i = 0; i < concurrency; i++) {
        CURL *handle = curl_easy_init();
        if (handle == NULL) {
            fprintf(stderr, "error: curl_easy_init failed for worker %ld\n", i);
            return 1;
        }
        curl_easy_setopt(handle, CURLOPT_URL, url);
        curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, 30000L);
        curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, discard_body);
        curl_easy_setopt(handle, CURLOPT_WRITEDATA, &body_bytes[i]);
        handles[i] = handle;
    }

    long started = 0, finished = 0, succeeded = 0, failed = 0;
    int timed_out = 0;
    double start = monotonic_seconds();
    double deadline = start + (double)max_seconds;
    double last_end = start;

    /* Every worker starts one request; a finished worker's handle is re-added for the next one. */
    for (long i = 0; i < concurrency; i++) {
        curl_multi_add_handle(multi, handles[i]);
        started++;
    }

    while (finished < started) {
        int running = 0;
        CURLMcode performed = curl_multi_perform(multi, &running);
        if (performed != CURLM_OK) {
            fprintf(stderr, "error: curl_multi_perform failed: %s\n", curl_multi_strerror(performed));
            return 1;
        }

        int queued = 0;
        CURLMsg *message;
        while ((message = curl_multi_info_read(multi, &queued)) != NULL) {
            if (message->msg != CURLMSG_DONE) continue;
            CURL *handle = message->easy_handle;
            long status = 0;
            curl_off_t total = 0, pretransfer = 0;
            curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
            curl_easy_getinfo(handle, CURLINFO_TOTAL_TIME_T, &total);
            curl_easy_getinfo(handle, CURLINFO_PRETRANSFER_TIME_T, &pretransfer);
            curl_multi_remove_handle(multi, handle);
            finished++;
            last_end = monotonic_seconds();
            if (message->data.result == CURLE_OK && status >= 200 && status < 300) {
                latencies_us[succeeded++] = (long)(total - pretransfer);
            } else {
                failed++;
            }
            if (started < request_count && last_end < deadline) {
                curl_multi_add_handle(multi, handle);
                started++;
            }
        }

        if (monotonic_seconds() >= deadline) {
            timed_out = finished < started || started < request_count;
            break;
        }
        if (finished < started) curl_multi_poll(multi, NULL, 0, 50, NULL);
    }

    double duration = last_end - start;
    qsort(latencies_us, (size_t)succeeded, sizeof *latencies_us, compare_longs);
    printf("requests=%ld ok=%ld failed=%ld duration_s=%.6f rps=%.1f p50_ms=%.3f p99_ms=%.3f%s\n",
           finished, succeeded, failed, duration, duration > 0 ? (double)finished / duration : 0.0,
           percentile(latencies_us, (size_t)succeeded, 50) / 1000.0,
           percentile(latencies_us, (size_t)succeeded, 99) / 1000.0,
           timed_out ? " timed_out=1" : "");

    for (long i = 0; i < concurrency; i++) {
        curl_multi_remove_handle(multi, handles[i]);
        curl_easy_cleanup(handles[i]);
    }
    curl_multi_cleanup(multi);
    curl_global_cleanup();
    free(latencies_us);
    free(body_bytes);
    free(handles);
    return (failed > 0 || timed_out) ? 1 : 0;
}
