using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Tasks;

namespace ClusterDR.Tests.Fixtures
{
    /// <summary>
    /// A one-connection HTTP/2 server (h2c, prior knowledge) on 127.0.0.1 for ClusterDR's own HTTP/2 client: the test
    /// scripts what it reads and writes, frame by frame. Headers it writes are HPACK literals without indexing (no
    /// Huffman); it decodes what the client sends (indexed static entries, literals without indexing). Small on purpose:
    /// the test project references no ASP.NET Core, and a hand-written peer can also misbehave (RST_STREAM, GOAWAY, a cut).
    /// </summary>
    internal sealed class H2cTestServer : IDisposable
    {
        private readonly TcpListener _listener = new TcpListener(IPAddress.Loopback, 0);
        private TcpClient _tcp;
        private Stream _net;

        public H2cTestServer(Action<H2cTestServer> script)
        {
            _listener.Start();
            Uri = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");
            Done = Task.Run(() =>
            {
                try
                {
                    _tcp = _listener.AcceptTcpClient();
                    _net = _tcp.GetStream();
                    _tcp.ReceiveTimeout = 20_000;
                    script(this);
                }
                finally { _tcp?.Dispose(); _listener.Stop(); }
            });
        }

        public Uri Uri { get; }

        /// <summary>The script: completes when it ran to its end, faults with what it asserted.</summary>
        public Task Done { get; }

        public sealed record Frame(int Type, int Flags, int Stream, byte[] Payload);

        public sealed class Request
        {
            public List<KeyValuePair<string, string>> Headers { get; } = new List<KeyValuePair<string, string>>();
            public int HeadersFlags { get; set; }
            public byte[] Body { get; set; } = new byte[0];
            public List<int> DataFrameSizes { get; } = new List<int>();
            public Dictionary<int, uint> Settings { get; } = new Dictionary<int, uint>();
            public long ConnectionWindowIncrement { get; set; }
            public string this[string name] => Headers.Find(h => h.Key == name).Value;
        }

        /// <summary>Reads the client preface and frames up to the end of the request on stream 1.</summary>
        public Request ReadRequest()
        {
            var preface = Exactly(24);
            if (Encoding.ASCII.GetString(preface) != "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") throw new InvalidDataException("no HTTP/2 client preface");
            var r = new Request();
            var body = new MemoryStream();
            while (true)
            {
                var f = ReadFrame() ?? throw new EndOfStreamException("the client closed before its request ended");
                switch (f.Type)
                {
                    case 4 when (f.Flags & 1) == 0:
                        for (int i = 0; i + 6 <= f.Payload.Length; i += 6)
                            r.Settings[f.Payload[i] << 8 | f.Payload[i + 1]] = (uint)(f.Payload[i + 2] << 24 | f.Payload[i + 3] << 16 | f.Payload[i + 4] << 8 | f.Payload[i + 5]);
                        break;
                    case 8 when f.Stream == 0:
                        r.ConnectionWindowIncrement += f.Payload[0] << 24 | f.Payload[1] << 16 | f.Payload[2] << 8 | f.Payload[3];
                        break;
                    case 1:
                        if (f.Stream != 1) throw new InvalidDataException("the request is not on stream 1");
                        r.HeadersFlags = f.Flags;
                        Decode(f.Payload, r.Headers);
                        break;
                    case 0:
                        r.DataFrameSizes.Add(f.Payload.Length);
                        body.Write(f.Payload, 0, f.Payload.Length);
                        break;
                }
                if (f.Stream == 1 && (f.Flags & 1) != 0 && (f.Type == 0 || f.Type == 1)) break;
            }
            r.Body = body.ToArray();
            return r;
        }

        public Frame ReadFrame()
        {
            var head = new byte[9];
            int got = 0;
            while (got < 9)
            {
                int k = _net.Read(head, got, 9 - got);
                if (k == 0) { if (got == 0) return null; throw new EndOfStreamException("cut inside a frame header"); }
                got += k;
            }
            int len = head[0] << 16 | head[1] << 8 | head[2];
            return new Frame(head[3], head[4], (head[5] & 0x7f) << 24 | head[6] << 16 | head[7] << 8 | head[8], Exactly(len));
        }

        /// <summary>Reads frames until the client closes; returns them.</summary>
        public List<Frame> ReadToEnd()
        {
            var all = new List<Frame>();
            try { for (var f = ReadFrame(); f != null; f = ReadFrame()) all.Add(f); }
            catch (IOException) { }
            return all;
        }

        public void Write(int type, int flags, int stream, byte[] payload)
        {
            int n = payload.Length;
            var frame = new byte[9 + n];
            frame[0] = (byte)(n >> 16); frame[1] = (byte)(n >> 8); frame[2] = (byte)n;
            frame[3] = (byte)type; frame[4] = (byte)flags;
            frame[5] = (byte)(stream >> 24); frame[6] = (byte)(stream >> 16); frame[7] = (byte)(stream >> 8); frame[8] = (byte)stream;
            Buffer.BlockCopy(payload, 0, frame, 9, n);
            _net.Write(frame, 0, frame.Length);
            _net.Flush();
        }

        public void Settings() => Write(4, 0, 0, new byte[0]);

        /// <summary>A HEADERS frame on stream 1 (response headers or trailers), every field a literal without indexing with a new name.</summary>
        public void Headers(bool endStream, params (string Name, string Value)[] fields)
        {
            var block = new List<byte>();
            foreach (var (name, value) in fields)
            {
                block.Add(0x00);
                Str(block, name);
                Str(block, value);
            }
            Write(1, 0x4 | (endStream ? 0x1 : 0), 1, block.ToArray());
        }

        public void Data(string text, bool endStream = false, int padding = 0)
        {
            var bytes = Encoding.ASCII.GetBytes(text);
            if (padding == 0) { Write(0, endStream ? 1 : 0, 1, bytes); return; }
            var payload = new byte[1 + bytes.Length + padding];
            payload[0] = (byte)padding;
            Buffer.BlockCopy(bytes, 0, payload, 1, bytes.Length);
            Write(0, 0x8 | (endStream ? 1 : 0), 1, payload);
        }

        /// <summary>Closes the connection at once (a server that dies mid-response).</summary>
        public void Cut() => _tcp.Client.Close();

        private static void Str(List<byte> block, string s)
        {
            var b = Encoding.ASCII.GetBytes(s);
            if (b.Length >= 127) throw new ArgumentException("too long for this encoder");
            block.Add((byte)b.Length);
            block.AddRange(b);
        }

        private byte[] Exactly(int n)
        {
            var b = new byte[n];
            int got = 0;
            while (got < n)
            {
                int k = _net.Read(b, got, n - got);
                if (k == 0) throw new EndOfStreamException("the client closed inside a frame");
                got += k;
            }
            return b;
        }

        /// <summary>The static table entries a request uses (RFC 7541 appendix A).</summary>
        private static readonly Dictionary<int, (string, string)> Static = new Dictionary<int, (string, string)>
        {
            [1] = (":authority", ""), [2] = (":method", "GET"), [3] = (":method", "POST"), [4] = (":path", "/"),
            [6] = (":scheme", "http"), [7] = (":scheme", "https"), [19] = ("accept", ""), [23] = ("authorization", ""),
            [28] = ("content-length", ""), [31] = ("content-type", ""), [58] = ("user-agent", ""),
        };

        /// <summary>Indexed fields and literals without indexing (4-bit name prefix), no Huffman, no dynamic table.</summary>
        private static void Decode(byte[] block, List<KeyValuePair<string, string>> into)
        {
            int i = 0;
            while (i < block.Length)
            {
                byte b = block[i];
                if ((b & 0x80) != 0) { i++; var (n, v) = Static[b & 0x7f]; into.Add(new KeyValuePair<string, string>(n, v)); continue; }
                if ((b & 0xf0) != 0) throw new InvalidDataException($"HPACK representation 0x{b:x2} is not a literal without indexing");
                int index = b & 0x0f;
                i++;
                if (index == 15) index += block[i++];
                string name = index == 0 ? ReadString(block, ref i) : Static[index].Item1;
                into.Add(new KeyValuePair<string, string>(name, ReadString(block, ref i)));
            }
        }

        private static string ReadString(byte[] block, ref int i)
        {
            if ((block[i] & 0x80) != 0) throw new InvalidDataException("a Huffman-coded string");
            int len = block[i++];
            var s = Encoding.ASCII.GetString(block, i, len);
            i += len;
            return s;
        }

        public void Dispose()
        {
            try { _tcp?.Dispose(); } catch { }
            _listener.Stop();
        }
    }
}
