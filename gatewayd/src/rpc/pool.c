/*
 * src/rpc/pool.c: a fixed set of worker threads over one FIFO of intrusive
 * tasks (see pool.h for the contract and the locking).
 */
#include "rpc/pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct gw_rpc_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    gw_rpc_task *head, *tail;
    size_t queued;
    int stopping;
    int nthreads;
    pthread_t *threads;
};

static void *pool_main(void *arg)
{
    gw_rpc_pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->head == NULL && !p->stopping)
            pthread_cond_wait(&p->cv, &p->mu);
        gw_rpc_task *t = p->head;
        if (t == NULL) { /* stopping and drained */
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        p->head = t->next;
        if (p->head == NULL)
            p->tail = NULL;
        p->queued--;
        pthread_mutex_unlock(&p->mu);
        t->next = NULL;
        t->run(t);
    }
}

gw_rpc_pool *gw_rpc_pool_create(int threads, char err[GW_ERR_LEN])
{
    if (threads < 1 || threads > 1024) {
        gw_errf(err, "worker count %d is out of range 1..1024", threads);
        return NULL;
    }
    gw_rpc_pool *p = calloc(1, sizeof(*p));
    if (p == NULL || (p->threads = calloc((size_t)threads, sizeof(pthread_t))) == NULL) {
        free(p);
        gw_errf(err, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    for (int i = 0; i < threads; i++) {
        int rc = pthread_create(&p->threads[i], NULL, pool_main, p);
        if (rc != 0) {
            gw_errf(err, "cannot start a worker thread: %s", strerror(rc));
            gw_rpc_pool_destroy(p);
            return NULL;
        }
        p->nthreads++;
    }
    return p;
}

void gw_rpc_pool_push(gw_rpc_pool *p, gw_rpc_task *t)
{
    t->next = NULL;
    pthread_mutex_lock(&p->mu);
    if (p->tail != NULL)
        p->tail->next = t;
    else
        p->head = t;
    p->tail = t;
    p->queued++;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

size_t gw_rpc_pool_queued(gw_rpc_pool *p)
{
    pthread_mutex_lock(&p->mu);
    size_t n = p->queued;
    pthread_mutex_unlock(&p->mu);
    return n;
}

void gw_rpc_pool_destroy(gw_rpc_pool *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p->threads);
    free(p);
}
