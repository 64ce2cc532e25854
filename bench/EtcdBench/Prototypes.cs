using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Threading;

namespace ClusterDR.Bench
{
    /// <summary>
    /// What-if prototypes that size the report's suggestions. They are NOT engine code and skip
    /// things the engine must do (TLS, error reporting, netstandard2.0 compatibility).
    /// </summary>
    public static class Prototypes
    {
        private static readonly byte[] BlobKey = Encoding.ASCII.GetBytes("\"blob\":\"");

        /// <summary>The JSON gateway, decoded straight from the bytes: no strings, no per-line allocations.</summary>
        public static long GatewayFastDecode(Uri url, Stream sink, CancellationToken ct)
        {
            using (var http = new HttpClient { BaseAddress = url, Timeout = Timeout.InfiniteTimeSpan })
            using (var req = new HttpRequestMessage(HttpMethod.Post, "/v3/maintenance/snapshot") { Content = new StringContent("{}", Encoding.UTF8, "application/json") })
            using (var resp = http.SendAsync(req, HttpCompletionOption.ResponseHeadersRead, ct).GetAwaiter().GetResult())
            using (var body = resp.Content.ReadAsStream(ct))
            {
                resp.EnsureSuccessStatusCode();
                var buf = new byte[1 << 18];
                int start = 0, end = 0;
                long total = 0;
                while (true)
                {
                    int nl = buf.AsSpan(start, end - start).IndexOf((byte)'\n');
                    if (nl >= 0)
                    {
                        total += Line(buf, start, nl, sink);
                        start += nl + 1;
                        continue;
                    }
                    if (start > 0) { Buffer.BlockCopy(buf, start, buf, 0, end - start); end -= start; start = 0; }
                    if (end == buf.Length) Array.Resize(ref buf, buf.Length * 2);
                    int r = body.Read(buf, end, buf.Length - end);
                    if (r == 0)
                    {
                        if (end > start) total += Line(buf, start, end - start, sink);
                        return total;
                    }
                    end += r;
                }
            }
        }

        private static int Line(byte[] buf, int offset, int length, Stream sink)
        {
            var line = buf.AsSpan(offset, length);
            int k = line.IndexOf(BlobKey);
            if (k < 0)
            {
                if (line.Trim((byte)' ').Trim((byte)'\r').Length == 0 || line.IndexOf("\"result\""u8) >= 0 && line.IndexOf("\"error\""u8) < 0) return 0;
                throw new InvalidOperationException("gateway error: " + Encoding.UTF8.GetString(line.Slice(0, Math.Min(300, line.Length))));
            }
            int b64Start = k + BlobKey.Length;
            int q = line.Slice(b64Start).IndexOf((byte)'"');
            var b64 = line.Slice(b64Start, q);
            if (b64.IndexOf((byte)'\\') >= 0) throw new NotSupportedException("escaped base64 (the engine handles it; the prototype does not)");
            var status = Base64.DecodeFromUtf8InPlace(b64, out int written);
            if (status != OperationStatus.Done) throw new InvalidDataException("bad base64: " + status);
            sink.Write(buf, offset + b64Start, written);
            return written;
        }

        /// <summary>etcd's gRPC Maintenance.Snapshot over cleartext HTTP/2, as etcdctl calls it; writes the blobs.</summary>
        /// <param name="onSize">Called before the first blob is written, with the snapshot file's exact size
        /// (the first message's remaining_bytes + its blob length + the 32-byte SHA-256 trailer).</param>
        public static long GrpcSnapshot(Uri url, Stream sink, CancellationToken ct, Action<long> onSize = null)
        {
            using (var http = new HttpClient(new SocketsHttpHandler()) { Timeout = Timeout.InfiniteTimeSpan })
            using (var req = new HttpRequestMessage(HttpMethod.Post, new Uri(url, "/etcdserverpb.Maintenance/Snapshot"))
            { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact, Content = new ByteArrayContent(new byte[5]) })
            {
                req.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
                req.Headers.TryAddWithoutValidation("TE", "trailers");
                using (var resp = http.SendAsync(req, HttpCompletionOption.ResponseHeadersRead, ct).GetAwaiter().GetResult())
                using (var body = resp.Content.ReadAsStreamAsync(ct).GetAwaiter().GetResult())
                {
                    resp.EnsureSuccessStatusCode();
                    var hdr = new byte[5];
                    var msg = new byte[1 << 16];
                    long total = 0;
                    while (true)
                    {
                        int first = body.Read(hdr, 0, 5);
                        if (first == 0) break;
                        if (first < 5) body.ReadExactly(hdr, first, 5 - first);
                        if (hdr[0] != 0) throw new NotSupportedException("compressed gRPC message");
                        int len = BinaryPrimitives.ReadInt32BigEndian(hdr.AsSpan(1));
                        if (msg.Length < len) msg = new byte[len];
                        body.ReadExactly(msg, 0, len);
                        // SnapshotResponse: 1 header (message), 2 remaining_bytes (varint), 3 blob (bytes).
                        int i = 0;
                        ulong remaining = 0;
                        while (i < len)
                        {
                            ulong tag = Varint(msg, ref i);
                            switch ((int)(tag & 7))
                            {
                                case 0:
                                    ulong v0 = Varint(msg, ref i);
                                    if ((tag >> 3) == 2) remaining = v0;
                                    break;
                                case 1: i += 8; break;
                                case 5: i += 4; break;
                                case 2:
                                    int l = (int)Varint(msg, ref i);
                                    if ((tag >> 3) == 3)
                                    {
                                        if (total == 0 && onSize != null) { onSize((long)remaining + l + 32); onSize = null; }
                                        sink.Write(msg, i, l);
                                        total += l;
                                    }
                                    i += l;
                                    break;
                                default: throw new InvalidDataException("bad protobuf wire type");
                            }
                        }
                    }
                    string status = resp.TrailingHeaders.TryGetValues("grpc-status", out var v) ? v.First()
                        : resp.Headers.TryGetValues("grpc-status", out var h) ? h.First() : null;
                    if (status != "0")
                    {
                        string message = resp.TrailingHeaders.TryGetValues("grpc-message", out var m) ? m.First() : "";
                        throw new InvalidOperationException($"gRPC snapshot failed: grpc-status {status ?? "missing"} {message}");
                    }
                    return total;
                }
            }
        }

        private static ulong Varint(byte[] b, ref int i)
        {
            ulong v = 0;
            for (int shift = 0; shift < 64; shift += 7)
            {
                byte x = b[i++];
                v |= (ulong)(x & 0x7f) << shift;
                if (x < 0x80) return v;
            }
            throw new InvalidDataException("varint too long");
        }

        /// <summary>Hands writes to a consumer thread through a bounded queue (memory stays flat); Dispose drains and rethrows.</summary>
        public sealed class PipeStream : Stream
        {
            private readonly BlockingCollection<(byte[] Buf, int Count)> _queue;
            private readonly Thread _thread;
            private Exception _error;

            public PipeStream(Stream inner, int capacity)
            {
                _queue = new BlockingCollection<(byte[], int)>(capacity);
                _thread = new Thread(() =>
                {
                    try
                    {
                        foreach (var (buf, count) in _queue.GetConsumingEnumerable())
                        {
                            inner.Write(buf, 0, count);
                            ArrayPool<byte>.Shared.Return(buf);
                        }
                    }
                    catch (Exception ex) { _error = ex; }
                }) { IsBackground = true, Name = "pipe" };
                _thread.Start();
            }

            public override void Write(byte[] buffer, int offset, int count)
            {
                if (_error != null) throw new IOException("consumer failed", _error);
                var copy = ArrayPool<byte>.Shared.Rent(count);
                Buffer.BlockCopy(buffer, offset, copy, 0, count);
                _queue.Add((copy, count));
            }

            protected override void Dispose(bool disposing)
            {
                if (disposing)
                {
                    _queue.CompleteAdding();
                    _thread.Join();
                    _queue.Dispose();
                    if (_error != null) throw new IOException("consumer failed", _error);
                }
                base.Dispose(disposing);
            }

            public override void Flush() { }
            public override bool CanRead => false;
            public override bool CanSeek => false;
            public override bool CanWrite => true;
            public override long Length => throw new NotSupportedException();
            public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
            public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
            public override void SetLength(long value) => throw new NotSupportedException();
        }
    }
}
