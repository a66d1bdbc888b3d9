// regen's attention kernels (ours), compiled to PTX by hack/cuda.sh and
// embedded in the cuda backend.
//
//   out[i,:] = Σ_j softmax_j( -‖q_i − k_j‖² / (2v) + bias[j] ) · V[j,:]
//
// Layout: one block computes BQ query rows × BDV output columns over one
// contiguous range of keys (a "split"); it walks that range in tiles of BK
// keys with an online softmax and writes a partial (row max m, row sum s,
// unnormalised accumulator a[BDV]) to a workspace. attn_combine then merges
// the splits of each row in the fixed order z = 0…Z−1. Every reduction is a
// fixed sequence of operations decided by the shape alone: no atomics, no
// data-dependent order, so the bits are the same run to run.
//
// Kernel arguments are all 8 bytes wide (pointers, long long, double):
// gorgonia.org/cu copies every argument as 8 bytes.
//
// Two ways to compute the distances:
//   attn_f32   SIMT fp32, d² = Σ_t (q_t − k_t)² directly (one sub + one fma
//              per term). No cancellation: ‖q‖²+‖k‖²−2q·k in fp32 loses
//              ~1e-7·‖q‖² absolute, which is most of d² late in sampling.
//   attn_tf32  Q·Kᵀ on tensor cores (mma.sync m16n8k8 tf32, sm_80+), as
//              ‖q−c‖²+‖k−c‖²−2(q−c)·(k−c) with c = the block's first query
//              (shrinks the norms so the tf32 rounding costs less). Norms
//              in fp32. Opt-in: see the accuracy cost in the package doc.

#define BQ 16   // query rows per block
#define BK 64   // keys per tile
#define BDV 32  // output columns per block
#define DC 32   // dimensions per shared-memory chunk
#define NT 128  // threads per block
#define PAD 1   // row padding of the shared tiles (bank conflicts)

typedef long long i64;

struct Smem {
    float q[BQ][DC + PAD];
    float k[BK][DC + PAD];
    double lg[BQ][BK + PAD]; // logits (fp64: a bias of ±1e4 plus a distance term)
    float s[BQ][BK + PAD];   // weights
    float v[BK][BDV + PAD];
    float c[DC];             // centre chunk (tf32 path)
    float qn[BQ];            // ‖q−c‖² (tf32 path)
    float kn[BK];            // ‖k−c‖² (tf32 path)
    double m[BQ];            // running row max
    float l[BQ];             // running row sum
    float alpha[BQ];         // rescale of this tile
};

// load_chunk copies dims [t0, t0+DC) of the block's queries and of the tile's
// keys into shared memory, zero-padded past nq/nk/d. With centre, c is
// subtracted from both.
__device__ void load_chunk(Smem& sm, const float* Q, const float* K, i64 nq, i64 nk, i64 d,
                           i64 q0, i64 k0, i64 t0, bool centre) {
    int tid = threadIdx.x;
    for (int e = tid; e < BQ * DC; e += NT) {
        int r = e / DC, t = e % DC;
        i64 qi = q0 + r, tt = t0 + t;
        float x = (qi < nq && tt < d) ? Q[qi * d + tt] : 0.f;
        if (centre && tt < d) x = __fsub_rn(x, sm.c[t]);
        if (qi >= nq) x = 0.f;
        sm.q[r][t] = x;
    }
    for (int e = tid; e < BK * DC; e += NT) {
        int r = e / DC, t = e % DC;
        i64 kj = k0 + r, tt = t0 + t;
        float x = (kj < nk && tt < d) ? K[kj * d + tt] : 0.f;
        if (centre && tt < d && kj < nk) x = __fsub_rn(x, sm.c[t]);
        sm.k[r][t] = x;
    }
}

__device__ void load_centre(Smem& sm, const float* Q, i64 d, i64 q0, i64 t0) {
    for (int t = threadIdx.x; t < DC; t += NT) {
        i64 tt = t0 + t;
        sm.c[t] = tt < d ? Q[q0 * d + tt] : 0.f;
    }
}

// scores_f32: thread (qg, kg) = (tid/32, tid%32) owns queries 4qg…4qg+3 and
// keys kg, kg+32; d² accumulates t = 0…d−1 in order.
__device__ void scores_f32(Smem& sm, const float* Q, const float* K, i64 nq, i64 nk, i64 d,
                           i64 q0, i64 k0, float acc[4][2]) {
    int qg = threadIdx.x / 32, kg = threadIdx.x % 32;
    for (int a = 0; a < 4; a++) acc[a][0] = acc[a][1] = 0.f;
    for (i64 t0 = 0; t0 < d; t0 += DC) {
        __syncthreads();
        load_chunk(sm, Q, K, nq, nk, d, q0, k0, t0, false);
        __syncthreads();
        int n = (int)min((i64)DC, d - t0);
        float c[4][2] = {{0.f, 0.f}, {0.f, 0.f}, {0.f, 0.f}, {0.f, 0.f}};
        for (int t = 0; t < n; t++) {
            float k0v = sm.k[kg][t], k1v = sm.k[kg + 32][t];
#pragma unroll
            for (int a = 0; a < 4; a++) {
                float qv = sm.q[4 * qg + a][t];
                float d0 = __fsub_rn(qv, k0v), d1 = __fsub_rn(qv, k1v);
                c[a][0] = __fmaf_rn(d0, d0, c[a][0]);
                c[a][1] = __fmaf_rn(d1, d1, c[a][1]);
            }
        }
        // chunk sums added to the total: error grows with DC + d/DC, not d
        for (int a = 0; a < 4; a++) {
            acc[a][0] = __fadd_rn(acc[a][0], c[a][0]);
            acc[a][1] = __fadd_rn(acc[a][1], c[a][1]);
        }
    }
}

__device__ __forceinline__ unsigned to_tf32(float x) {
    unsigned r;
    asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(x));
    return r;
}

// scores_tf32: warp w computes the 16 queries × keys 16w…16w+15 as two
// m16n8k8 tiles; the fragment layout is PTX's for .tf32 (groupID g = lane/4,
// thread-in-group u = lane%4). Norms of the centred rows accumulate in fp32,
// in order, by one thread per row. Results: acc[n][r] as the C fragment.
__device__ void scores_tf32(Smem& sm, const float* Q, const float* K, i64 nq, i64 nk, i64 d,
                            i64 q0, i64 k0, float acc[2][4]) {
    int tid = threadIdx.x, w = tid / 32, lane = tid % 32, g = lane / 4, u = lane % 4;
    for (int n = 0; n < 2; n++)
        for (int r = 0; r < 4; r++) acc[n][r] = 0.f;
    if (tid < BQ) sm.qn[tid] = 0.f;
    if (tid < BK) sm.kn[tid] = 0.f;
    for (i64 t0 = 0; t0 < d; t0 += DC) {
        __syncthreads();
        load_centre(sm, Q, d, q0, t0);
        __syncthreads();
        load_chunk(sm, Q, K, nq, nk, d, q0, k0, t0, true);
        __syncthreads();
        if (tid < BQ) {
            float s = 0.f;
            for (int t = 0; t < DC; t++) s = __fmaf_rn(sm.q[tid][t], sm.q[tid][t], s);
            sm.qn[tid] = __fadd_rn(sm.qn[tid], s);
        } else if (tid >= 64) {
            int j = tid - 64;
            float s = 0.f;
            for (int t = 0; t < DC; t++) s = __fmaf_rn(sm.k[j][t], sm.k[j][t], s);
            sm.kn[j] = __fadd_rn(sm.kn[j], s);
        }
#pragma unroll
        for (int ks = 0; ks < DC; ks += 8) {
            unsigned a0 = to_tf32(sm.q[g][ks + u]), a1 = to_tf32(sm.q[g + 8][ks + u]);
            unsigned a2 = to_tf32(sm.q[g][ks + u + 4]), a3 = to_tf32(sm.q[g + 8][ks + u + 4]);
#pragma unroll
            for (int n = 0; n < 2; n++) {
                int key = 16 * w + 8 * n + g;
                unsigned b0 = to_tf32(sm.k[key][ks + u]), b1 = to_tf32(sm.k[key][ks + u + 4]);
                asm volatile(
                    "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 "
                    "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                    : "+f"(acc[n][0]), "+f"(acc[n][1]), "+f"(acc[n][2]), "+f"(acc[n][3])
                    : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
            }
        }
    }
    __syncthreads();
}

// logit is −d²/(2v) + bias[kj] in fp64 (the distance term rounded to fp32
// first), or −∞ past the split's end.
__device__ __forceinline__ double logit(float d2, float inv2v, const float* bias, i64 kj, i64 kend) {
    if (kj >= kend) return -INFINITY;
    double lg = (double)__fmul_rn(-d2, inv2v);
    if (bias) lg = __dadd_rn(lg, (double)bias[kj]);
    return lg;
}

// attn_body processes keys [kbeg, kend) for the block's rows and columns and
// writes the partial of split z.
template <bool TF32>
__device__ void attn_body(const float* Q, const float* K, const float* bias, const float* V,
                          double* pmax, float* part, i64 nq, i64 nk, i64 d, i64 dv, float inv2v,
                          i64 keysPerSplit) {
    __shared__ Smem sm;
    int tid = threadIdx.x;
    i64 q0 = (i64)blockIdx.x * BQ, c0 = (i64)blockIdx.y * BDV, z = blockIdx.z;
    i64 kbeg = z * keysPerSplit, kend = min(nk, kbeg + keysPerSplit);
    if (tid < BQ) {
        sm.m[tid] = -INFINITY;
        sm.l[tid] = 0.f;
    }
    // PV ownership: column col, rows 4pr…4pr+3.
    int col = tid % BDV, pr = tid / BDV;
    float out[4] = {0.f, 0.f, 0.f, 0.f};
    for (i64 k0 = kbeg; k0 < kend; k0 += BK) {
        // 1. logits into sm.s
        if (TF32) {
            float acc[2][4];
            scores_tf32(sm, Q, K, nq, nk, d, q0, k0, acc);
            int w = tid / 32, lane = tid % 32, g = lane / 4, u = lane % 4;
            for (int n = 0; n < 2; n++)
                for (int r = 0; r < 4; r++) {
                    int row = g + 8 * (r / 2), key = 16 * w + 8 * n + 2 * u + (r % 2);
                    // d² = ‖q−c‖² + ‖k−c‖² − 2(q−c)·(k−c), clamped at 0
                    float d2 = __fsub_rn(__fadd_rn(sm.qn[row], sm.kn[key]), __fmul_rn(2.f, acc[n][r]));
                    d2 = fmaxf(d2, 0.f);
                    sm.lg[row][key] = logit(d2, inv2v, bias, k0 + key, kend);
                }
        } else {
            float acc[4][2];
            scores_f32(sm, Q, K, nq, nk, d, q0, k0, acc);
            int qg = tid / 32, kg = tid % 32;
            for (int a = 0; a < 4; a++)
                for (int b = 0; b < 2; b++) {
                    int key = kg + 32 * b;
                    sm.lg[4 * qg + a][key] = logit(acc[a][b], inv2v, bias, k0 + key, kend);
                }
        }
        // V tile (columns c0…c0+BDV) while the logits settle
        for (int e = tid; e < BK * BDV; e += NT) {
            int r = e / BDV, c = e % BDV;
            i64 kj = k0 + r, cc = c0 + c;
            sm.v[r][c] = (kj < kend && cc < dv) ? V[kj * dv + cc] : 0.f;
        }
        __syncthreads();
        // 2. online softmax: row r = tid/8 by 8 threads, 8 contiguous keys
        // each; butterfly max and sum (every lane ends with the same bits).
        {
            int r = tid / 8, sub = tid % 8;
            double mx = -INFINITY;
            for (int j = 0; j < 8; j++) mx = fmax(mx, sm.lg[r][8 * sub + j]);
            for (int o = 4; o > 0; o /= 2) mx = fmax(mx, __shfl_xor_sync(0xffffffffu, mx, o));
            double mold = sm.m[r], mnew = fmax(mold, mx);
            float sum = 0.f;
            for (int j = 0; j < 8; j++) {
                double lg = sm.lg[r][8 * sub + j];
                float p = lg == -INFINITY ? 0.f : expf(__double2float_rn(__dsub_rn(lg, mnew)));
                sm.s[r][8 * sub + j] = p;
                sum = __fadd_rn(sum, p);
            }
            for (int o = 4; o > 0; o /= 2) sum = __fadd_rn(sum, __shfl_xor_sync(0xffffffffu, sum, o));
            __syncwarp();
            if (sub == 0) {
                float al = mold == -INFINITY ? 0.f : expf(__double2float_rn(__dsub_rn(mold, mnew)));
                sm.alpha[r] = al;
                sm.l[r] = __fadd_rn(__fmul_rn(sm.l[r], al), sum);
                sm.m[r] = mnew;
            }
        }
        __syncthreads();
        // 3. weighted sum, keys in order
        for (int a = 0; a < 4; a++) {
            int r = 4 * pr + a;
            float o = __fmul_rn(out[a], sm.alpha[r]);
            for (int j = 0; j < BK; j++) o = __fmaf_rn(sm.s[r][j], sm.v[j][col], o);
            out[a] = o;
        }
        __syncthreads();
    }
    // partials: pmax [Z][nq] (fp64 row max); part [Z][nq][1 + dv]: row sum,
    // then the dv unnormalised accumulators.
    i64 stride = 1 + dv;
    float* pz = part + z * nq * stride;
    if (tid < BQ && q0 + tid < nq && blockIdx.y == 0) {
        pmax[z * nq + q0 + tid] = sm.m[tid];
        pz[(q0 + tid) * stride] = sm.l[tid];
    }
    for (int a = 0; a < 4; a++) {
        i64 row = q0 + 4 * pr + a, cc = c0 + col;
        if (row < nq && cc < dv) pz[row * stride + 1 + cc] = out[a];
    }
}

extern "C" __global__ void __launch_bounds__(NT)
attn_f32(const float* Q, const float* K, const float* bias, const float* V, double* pmax,
         float* part, i64 nq, i64 nk, i64 d, i64 dv, double inv2v, i64 keysPerSplit) {
    attn_body<false>(Q, K, bias, V, pmax, part, nq, nk, d, dv, (float)inv2v, keysPerSplit);
}

extern "C" __global__ void __launch_bounds__(NT)
attn_tf32(const float* Q, const float* K, const float* bias, const float* V, double* pmax,
          float* part, i64 nq, i64 nk, i64 d, i64 dv, double inv2v, i64 keysPerSplit) {
#if __CUDA_ARCH__ >= 800
    attn_body<true>(Q, K, bias, V, pmax, part, nq, nk, d, dv, (float)inv2v, keysPerSplit);
#endif
}

// attn_combine: one thread per (row, column): merge the Z partials in order
// z = 0…Z−1 and normalise. out = Σ_z a_z e^(m_z−M) / Σ_z l_z e^(m_z−M).
extern "C" __global__ void attn_combine(const double* pmax, const float* part, float* out,
                                        i64 nq, i64 dv, i64 nz) {
    i64 idx = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= nq * dv) return;
    i64 row = idx / dv, cc = idx % dv, stride = 1 + dv;
    double M = -INFINITY;
    for (i64 z = 0; z < nz; z++) M = fmax(M, pmax[z * nq + row]);
    float L = 0.f, A = 0.f;
    for (i64 z = 0; z < nz; z++) {
        double mz = pmax[z * nq + row];
        const float* p = part + (z * nq + row) * stride;
        float e = mz == -INFINITY ? 0.f : expf(__double2float_rn(__dsub_rn(mz, M)));
        L = __fmaf_rn(p[0], e, L);
        A = __fmaf_rn(p[1 + cc], e, A);
    }
    out[idx] = __fdiv_rn(A, L);
}
