using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading;
using ClusterDR.Backups;

namespace ClusterDR.Transport
{
    /// <summary>
    /// One HTTP/2 request and its response on an <see cref="H2Connection"/> (cleartext h2c with prior knowledge,
    /// or TLS with ALPN h2), read with blocking calls: the request (headers and a small body), then the
    /// response's DATA as a stream. Written for etcd's snapshot download over gRPC (the gRPC framing stays with
    /// etcd, in <c>Etcd/EtcdGrpcSnapshot</c>), where HttpClient's HTTP/2 costs ~5× the CPU (measured:
    /// 1.4–2.0 s vs 0.3–0.45 s per 560 MB over h2c) on a machine whose other core is busy serving the
    /// snapshot. Over cleartext it also works where HttpClient has no HTTP/2 (.NET Framework).
    /// Flow control: windows are opened to 2^31−1 and topped up; memory stays bounded because the
    /// socket is only read as fast as the data is consumed (TCP pushes back on the server).
    /// Headers go out in HPACK without Huffman and without indexing; response headers and trailers are not
    /// decoded: completeness is judged by END_STREAM and by the caller (for a snapshot, its announced size and
    /// SHA-256 trailer).
    /// </summary>
    internal sealed class H2Call : IDisposable
    {
        private const int StreamId = 1;
        private const int Window = int.MaxValue;
        private const int TopUpAfter = 1 << 29;
        /// <summary>SETTINGS_MAX_FRAME_SIZE's and SETTINGS_INITIAL_WINDOW_SIZE's defaults: what a server takes before its own SETTINGS.</summary>
        private const int MaxFrame = 16384, InitialWindow = 65535;
        private readonly H2Connection _connection;
        private readonly Stream _net;
        private readonly CancellationTokenRegistration _cancel;
        private readonly byte[] _buf = new byte[1 << 20];
        private int _start, _end;
        private long _unacknowledged;

        private H2Call(H2Connection connection, CancellationToken ct)
        {
            _connection = connection;
            _net = connection.Stream;
            // Closing the socket is the only way to interrupt a blocking read.
            _cancel = ct.Register(connection.Abort);
            Body = new DataStream(this);
        }

        /// <summary>The response's DATA payloads, in order; ends at END_STREAM.</summary>
        public Stream Body { get; }

        /// <summary>
        /// Sends <paramref name="method"/> <paramref name="path"/> with <paramref name="headers"/> (lower-case names, in
        /// order) and <paramref name="body"/> (empty: none) on <paramref name="connection"/>, which the call owns from here on.
        /// </summary>
        public static H2Call Start(H2Connection connection, string method, string authority, string path,
            IEnumerable<KeyValuePair<string, string>> headers, byte[] body, CancellationToken ct)
        {
            if (body != null && body.Length > InitialWindow)
                throw new ArgumentException($"a request body of {body.Length} bytes exceeds the {InitialWindow} bytes the server lets through before its first WINDOW_UPDATE", nameof(body));
            H2Call call = null;
            try
            {
                call = new H2Call(connection, ct);
                call.SendRequest(method, authority, path, headers, body ?? new byte[0], connection.IsTls);
                return call;
            }
            catch
            {
                if (call != null) call.Dispose();
                else connection.Dispose();
                throw;
            }
        }

        private void SendRequest(string method, string authority, string path, IEnumerable<KeyValuePair<string, string>> headers, byte[] body, bool tls)
        {
            var o = new MemoryStream();
            var preface = Encoding.ASCII.GetBytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
            o.Write(preface, 0, preface.Length);
            // SETTINGS: ENABLE_PUSH 0, INITIAL_WINDOW_SIZE 2^31−1; then open the connection window as far.
            WriteFrame(o, 4, 0, 0, new byte[] { 0, 2, 0, 0, 0, 0, 0, 4, 0x7f, 0xff, 0xff, 0xff });
            WriteFrame(o, 8, 0, 0, Be32(Window - 65535));
            // HPACK, no Huffman, nothing indexed: :method GET or POST (static 2, 3), :scheme http or https (static 6, 7),
            // :path and :authority as literals with static names, then each header as a literal (a static name where
            // the table has it, such as content-type, static 31).
            var h = new List<byte>();
            if (method == "GET") h.Add(0x82);
            else if (method == "POST") h.Add(0x83);
            else Literal(h, 0x02, method);
            h.Add((byte)(tls ? 0x87 : 0x86));
            Literal(h, 0x04, path);
            Literal(h, 0x01, authority);
            foreach (var header in headers ?? new KeyValuePair<string, string>[0])
            {
                if (StaticNames.TryGetValue(header.Key, out byte index)) { h.Add(0x0f); h.Add((byte)(index - 15)); }
                else { h.Add(0x00); String(h, header.Key); }
                String(h, header.Value);
            }
            bool noBody = body.Length == 0;
            WriteFrame(o, 1, 0x4 /* END_HEADERS */ | (noBody ? 0x1 /* END_STREAM */ : 0), StreamId, h.ToArray());
            for (int at = 0; at < body.Length; at += MaxFrame)
            {
                int n = Math.Min(MaxFrame, body.Length - at);
                var chunk = new byte[n];
                Buffer.BlockCopy(body, at, chunk, 0, n);
                WriteFrame(o, 0, at + n == body.Length ? 0x1 /* END_STREAM */ : 0, StreamId, chunk);
            }
            _net.Write(o.GetBuffer(), 0, (int)o.Length);
        }

        /// <summary>Header names of HPACK's static table (RFC 7541 appendix A) past index 15 that a request may carry.</summary>
        private static readonly Dictionary<string, byte> StaticNames = new Dictionary<string, byte>(StringComparer.Ordinal)
        {
            ["accept"] = 19, ["authorization"] = 23, ["content-length"] = 28, ["content-type"] = 31, ["user-agent"] = 58,
        };

        private static void Literal(List<byte> h, byte nameIndex, string value)
        {
            h.Add(nameIndex);
            String(h, value);
        }

        private static void String(List<byte> h, string s)
        {
            var bytes = Encoding.ASCII.GetBytes(s);
            if (bytes.Length >= 127) throw new ArgumentException("header value too long for this encoder");
            h.Add((byte)bytes.Length);
            h.AddRange(bytes);
        }

        private static byte[] Be32(int v) => new[] { (byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v };

        private static void WriteFrame(Stream to, int type, int flags, int stream, byte[] payload)
        {
            int n = payload.Length;
            var head = new byte[] { (byte)(n >> 16), (byte)(n >> 8), (byte)n, (byte)type, (byte)flags, (byte)(stream >> 24), (byte)(stream >> 16), (byte)(stream >> 8), (byte)stream };
            to.Write(head, 0, 9);
            to.Write(payload, 0, n);
        }

        private void Send(int type, int flags, int stream, byte[] payload)
        {
            var o = new MemoryStream();
            WriteFrame(o, type, flags, stream, payload);
            _net.Write(o.GetBuffer(), 0, (int)o.Length);
        }

        private bool Need(int n)
        {
            if (_end - _start >= n) return true;
            if (n > _buf.Length) throw new IOException($"an HTTP/2 frame of {n} bytes exceeds what was allowed");
            Buffer.BlockCopy(_buf, _start, _buf, 0, _end - _start);
            _end -= _start;
            _start = 0;
            while (_end < n)
            {
                int k = _net.Read(_buf, _end, _buf.Length - _end);
                if (k == 0) return false;
                _end += k;
            }
            return true;
        }

        /// <summary>Next DATA payload of the stream as (offset, count) in the buffer; count 0 means the stream ended.</summary>
        private int NextData(out int offset)
        {
            while (true)
            {
                if (!Need(9)) throw new IOException("the server closed the connection before the response ended");
                int len = _buf[_start] << 16 | _buf[_start + 1] << 8 | _buf[_start + 2];
                int type = _buf[_start + 3], flags = _buf[_start + 4];
                int stream = (_buf[_start + 5] & 0x7f) << 24 | _buf[_start + 6] << 16 | _buf[_start + 7] << 8 | _buf[_start + 8];
                if (!Need(9 + len)) throw new IOException("the server closed the connection inside an HTTP/2 frame");
                int p = _start + 9;
                _start += 9 + len;
                bool end = (flags & 0x1) != 0 && stream == StreamId && (type == 0 || type == 1);
                switch (type)
                {
                    case 0 when stream == StreamId: // DATA
                        TopUp(len);
                        int pad = (flags & 0x8) != 0 ? _buf[p] + 1 : 0;
                        int count = len - pad;
                        if (count < 0) throw new IOException("a malformed padded DATA frame");
                        offset = p + ((flags & 0x8) != 0 ? 1 : 0);
                        if (count > 0) HadData = true;
                        if (count > 0 || end)
                        {
                            if (end) Ended = true;
                            return count;
                        }
                        break;
                    case 1 when stream == StreamId: // HEADERS: response headers or trailers (not decoded)
                        HeaderBlocks++;
                        break;
                    case 3 when stream == StreamId: // RST_STREAM
                        throw new IOException($"the server reset the stream (HTTP/2 error {ErrorCode(p, len)})");
                    case 4 when (flags & 1) == 0: // SETTINGS (not an ACK): acknowledge
                        Send(4, 1, 0, new byte[0]);
                        break;
                    case 6 when (flags & 1) == 0: // PING: answer
                        var ping = new byte[8];
                        Buffer.BlockCopy(_buf, p, ping, 0, Math.Min(8, len));
                        Send(6, 1, 0, ping);
                        break;
                    case 7: // GOAWAY
                        throw new IOException($"the server closed the connection (HTTP/2 GOAWAY, error {ErrorCode(p + 4, len - 4)})");
                }
                if (end)
                {
                    Ended = true;
                    offset = p;
                    return 0;
                }
            }
        }

        /// <summary>Keeps both windows open for snapshots past 2 GiB.</summary>
        private void TopUp(int consumed)
        {
            _unacknowledged += consumed;
            if (_unacknowledged < TopUpAfter) return;
            var inc = Be32((int)_unacknowledged);
            Send(8, 0, 0, inc);
            Send(8, 0, StreamId, inc);
            _unacknowledged = 0;
        }

        private uint ErrorCode(int p, int len) => len >= 4 ? (uint)(_buf[p] << 24 | _buf[p + 1] << 16 | _buf[p + 2] << 8 | _buf[p + 3]) : 0;

        /// <summary>At least one byte of DATA arrived.</summary>
        public bool HadData { get; private set; }

        /// <summary>END_STREAM was received (the server finished the response).</summary>
        public bool Ended { get; private set; }

        /// <summary>HEADERS frames seen: 1 for headers only, 2 when trailers came too.</summary>
        public int HeaderBlocks { get; private set; }

        public void Dispose()
        {
            _cancel.Dispose();
            _connection.Dispose();
        }

        private sealed class DataStream : ReadOnlyStream
        {
            private readonly H2Call _call;
            private int _offset, _left;

            public DataStream(H2Call call) { _call = call; }

            public override int Read(byte[] buffer, int offset, int count)
            {
                while (_left == 0)
                {
                    if (_call.Ended) return 0;
                    _left = _call.NextData(out _offset);
                    if (_left == 0 && _call.Ended) return 0;
                }
                int n = Math.Min(count, _left);
                Buffer.BlockCopy(_call._buf, _offset, buffer, offset, n);
                _offset += n;
                _left -= n;
                return n;
            }
        }
    }
}
