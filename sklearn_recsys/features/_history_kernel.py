"""The sweep kernel of :class:`BehaviorHistoryFeaturizer` (numba).

The log's events (sorted by time in ``fit``) and the rows to featurize (sorted by time here)
are walked together once. Before a row at time ``t`` is written, every event strictly earlier
than ``t`` has been added to the running state of its keys (counts per behaviour, first and last
time, distinct pairs, the user's session) and, for each recent window, every event older than
``t - window`` has been taken out of that window's counts again by a trailing pointer. A row is
then read from the state of its keys: one pass over the events and the rows, with a few lookups
per event and per row, instead of several binary searches per row into arrays as long as the
log.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: per-key output slots after the behaviour counts and the window counts (see ``colmap``)
SLOT_EVENTS, SLOT_SINCE_FIRST, SLOT_SINCE_LAST, SLOT_DISTINCT, SLOT_CONVERSION = range(5)
N_SLOTS = 5


@njit(cache=True, nogil=True)
def sweep(
    ev_time,
    ev_code,
    ev_beh,
    offsets,
    n_slots,
    row_order,
    row_time,
    row_code,
    windows,
    n_behaviors,
    target,
    smooth,
    gap,
    k_user,
    k_pair,
    colmap,
    col_session,
    col_session_pair,
    out,
):
    """Fill ``out`` (rows x history columns, row-major) for every row.

    ``ev_time`` (n,) sorted; ``ev_code`` (n, n_keys) each event's code per key; ``ev_beh`` (n,)
    behaviour codes. ``offsets`` (n_keys,): the first state slot of each key (a key of ``m``
    codes has ``m + 1`` slots: the last one, never updated, is for unknown ids); ``n_slots`` all
    of them.
    ``row_order``: the rows by time; ``row_time`` (rows,), ``row_code`` (rows, n_keys).
    ``colmap`` (n_keys, n_behaviors * (1 + n_windows) + N_SLOTS): output column of each per-key
    feature (-1: not computed). ``col_session``: [events, elapsed, per behaviour...] or all -1;
    ``col_session_pair``: user x item events in the current session (-1: none).
    ``target`` < 0: no conversion rates.
    """
    n_ev = ev_time.shape[0]
    n_keys = offsets.shape[0]
    n_w = windows.shape[0]
    n_b1 = n_behaviors * (1 + n_w)
    # one row of counts per key slot (one or two cache lines an update): the counts per
    # behaviour, per window and behaviour, then all events and distinct pairs
    TOTAL, DISTINCT = n_b1, n_b1 + 1
    state = np.zeros((n_slots, n_b1 + 2), dtype=np.int32)
    seen = np.zeros((n_slots, 2), dtype=np.float64)  # first and last event time
    # the user's current session (user slots) and each pair's events in it (pair slots)
    session_id = np.zeros(n_slots, dtype=np.int32)
    session_t0 = np.zeros(n_slots, dtype=np.float64)
    session_count = np.zeros((n_slots, n_behaviors + 1), dtype=np.int32)  # last: all events
    pair_session = np.zeros(n_slots, dtype=np.int32)
    pair_session_n = np.zeros(n_slots, dtype=np.int32)
    trailing = np.zeros(n_w, dtype=np.int64)
    n_sessions = 0
    n_all = 0
    n_target = 0
    i = 0
    for r in range(row_order.shape[0]):
        row = row_order[r]
        t = row_time[row]
        # events strictly earlier than the row enter the state
        while i < n_ev and ev_time[i] < t:
            tm = ev_time[i]
            b = ev_beh[i]
            n_all += 1
            if b == target:
                n_target += 1
            first = 0
            if k_pair >= 0:
                p = offsets[k_pair] + ev_code[i, k_pair]
                first = 1 if state[p, TOTAL] == 0 else 0
            if k_user >= 0:
                u = offsets[k_user] + ev_code[i, k_user]
                if state[u, TOTAL] == 0 or tm - seen[u, 1] > gap:
                    n_sessions += 1
                    session_id[u] = n_sessions
                    session_t0[u] = tm
                    session_count[u, :] = 0
                session_count[u, b] += 1
                session_count[u, n_behaviors] += 1
                if k_pair >= 0:
                    if pair_session[p] != session_id[u]:
                        pair_session[p] = session_id[u]
                        pair_session_n[p] = 0
                    pair_session_n[p] += 1
            for k in range(n_keys):
                s = offsets[k] + ev_code[i, k]
                if state[s, TOTAL] == 0:
                    seen[s, 0] = tm
                seen[s, 1] = tm
                state[s, TOTAL] += 1
                state[s, DISTINCT] += first
                state[s, b] += 1
                for w in range(n_w):
                    state[s, n_behaviors * (1 + w) + b] += 1
            i += 1
        # events older than each window leave it
        for w in range(n_w):
            lo = t - windows[w]
            j = trailing[w]
            col = n_behaviors * (1 + w)
            while j < i and ev_time[j] < lo:
                bj = ev_beh[j]
                for k in range(n_keys):
                    state[offsets[k] + ev_code[j, k], col + bj] -= 1
                j += 1
            trailing[w] = j
        prior = (n_target + 1.0) / (n_all + 2.0)
        for k in range(n_keys):
            s = offsets[k] + row_code[row, k]
            cols = colmap[k]
            for c in range(n_b1):
                out[row, cols[c]] = state[s, c]
            n = state[s, TOTAL]
            out[row, cols[n_b1 + SLOT_EVENTS]] = n
            if cols[n_b1 + SLOT_SINCE_FIRST] >= 0:
                out[row, cols[n_b1 + SLOT_SINCE_FIRST]] = t - seen[s, 0] if n > 0 else -1.0
            if cols[n_b1 + SLOT_SINCE_LAST] >= 0:
                out[row, cols[n_b1 + SLOT_SINCE_LAST]] = t - seen[s, 1] if n > 0 else -1.0
            if cols[n_b1 + SLOT_DISTINCT] >= 0:
                out[row, cols[n_b1 + SLOT_DISTINCT]] = state[s, DISTINCT]
            if cols[n_b1 + SLOT_CONVERSION] >= 0:
                out[row, cols[n_b1 + SLOT_CONVERSION]] = (state[s, target] + smooth * prior) / (
                    n + smooth
                )
        if col_session[0] >= 0:
            u = offsets[k_user] + row_code[row, k_user]
            if state[u, TOTAL] > 0 and t - seen[u, 1] <= gap:
                out[row, col_session[0]] = session_count[u, n_behaviors]
                out[row, col_session[1]] = t - session_t0[u]
                for b in range(n_behaviors):
                    out[row, col_session[2 + b]] = session_count[u, b]
                if col_session_pair >= 0:
                    p = offsets[k_pair] + row_code[row, k_pair]
                    if pair_session[p] == session_id[u]:
                        out[row, col_session_pair] = pair_session_n[p]
    return out
