using System;
using System.Collections.Generic;
using System.IO;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace ClusterDR.Bench
{
    /// <summary>
    /// Just enough of ZooKeeper's client wire protocol (jute, big-endian, every frame length-prefixed) to
    /// write many persistent znodes fast: one session, pipelined create requests. Benchmark-only.
    /// </summary>
    public sealed class ZkWire : IDisposable
    {
        private const int OpCreate = 1, OpCloseSession = -11;
        private const int ErrNodeExists = -110;
        private readonly TcpClient _tcp;
        private readonly NetworkStream _net;
        private int _xid;

        public long SessionId { get; }

        public ZkWire(string host, int port, int sessionTimeoutMs = 30000)
        {
            _tcp = new TcpClient { NoDelay = true };
            _tcp.Connect(host, port);
            _net = _tcp.GetStream();
            // ConnectRequest{int protocolVersion, long lastZxidSeen, int timeOut, long sessionId, buffer passwd} + bool readOnly
            var w = new Jute();
            w.Int(0); w.Long(0); w.Int(sessionTimeoutMs); w.Long(0); w.Buffer(new byte[16]); w.Bool(false);
            WriteFrame(_net, w.ToArray());
            // ConnectResponse{int protocolVersion, int timeOut, long sessionId, buffer passwd} (+ bool readOnly)
            var r = new JuteReader(ReadFrame(_net));
            r.Int();
            int timeout = r.Int();
            SessionId = r.Long();
            if (timeout <= 0 || SessionId == 0) throw new IOException($"ZooKeeper {host}:{port} refused the session (timeout {timeout}).");
        }

        /// <summary>
        /// Creates every path in order (parents before children: one session's requests are applied in
        /// order) with at most <paramref name="window"/> requests in flight. An existing node counts as created.
        /// Returns how many were new.
        /// </summary>
        public long CreateMany(IReadOnlyList<string> paths, Func<int, byte[]> data, int window, Action<long> progress = null)
        {
            var slots = new SemaphoreSlim(window, window);
            long created = 0, answered = 0;
            Exception readerError = null;
            int firstXid = _xid + 1;
            var reader = Task.Run(() =>
            {
                try
                {
                    while (answered < paths.Count)
                    {
                        var r = new JuteReader(ReadFrame(_net));
                        int xid = r.Int(); r.Long(); int err = r.Int();
                        if (xid < 0) continue; // a watch event or ping answer: not ours
                        if (err == 0) created++;
                        else if (err != ErrNodeExists) throw new IOException($"create {paths[xid - firstXid]} failed with ZooKeeper error {err}.");
                        answered++;
                        if ((answered & 0x3fff) == 0) progress?.Invoke(answered);
                        slots.Release();
                    }
                }
                catch (Exception ex) { readerError = ex; }
            });
            // Not disposed: that would close the NetworkStream and with it the socket.
            var buffered = new BufferedStream(_net, 1 << 16);
            {
                for (int i = 0; i < paths.Count; i++)
                {
                    if (!slots.Wait(0))
                    {
                        buffered.Flush();
                        while (!slots.Wait(200) && readerError == null) { }
                    }
                    if (readerError != null) break;
                    var w = new Jute();
                    // RequestHeader{int xid, int type} + CreateRequest{ustring path, buffer data, vector<ACL> acl, int flags}
                    w.Int(++_xid); w.Int(OpCreate);
                    w.String(paths[i]); w.Buffer(data(i));
                    w.Int(1); w.Int(31); w.String("world"); w.String("anyone"); // one ACL: ALL for world:anyone
                    w.Int(0);                                                     // persistent
                    var payload = w.ToArray();
                    WriteFrame(buffered, payload);
                }
                buffered.Flush();
            }
            reader.Wait();
            if (readerError != null) throw new IOException(readerError.Message, readerError);
            return created;
        }

        public void Dispose()
        {
            try
            {
                var w = new Jute();
                w.Int(++_xid); w.Int(OpCloseSession);
                WriteFrame(_net, w.ToArray());
                _net.ReadTimeout = 2000;
                ReadFrame(_net);
            }
            catch (Exception ex) when (ex is IOException || ex is SocketException || ex is ObjectDisposedException) { }
            _tcp.Dispose();
        }

        private static void WriteFrame(Stream s, byte[] payload)
        {
            var len = new byte[4];
            Jute.PutInt(len, 0, payload.Length);
            s.Write(len, 0, 4);
            s.Write(payload, 0, payload.Length);
        }

        private static byte[] ReadFrame(Stream s)
        {
            var len = ReadExactly(s, 4);
            int n = (len[0] << 24) | (len[1] << 16) | (len[2] << 8) | len[3];
            if (n < 0 || n > 64 << 20) throw new IOException($"bad ZooKeeper frame length {n}");
            return ReadExactly(s, n);
        }

        private static byte[] ReadExactly(Stream s, int n)
        {
            var b = new byte[n];
            int off = 0;
            while (off < n)
            {
                int r = s.Read(b, off, n - off);
                if (r <= 0) throw new IOException("ZooKeeper closed the connection");
                off += r;
            }
            return b;
        }

        private sealed class Jute
        {
            private readonly MemoryStream _ms = new MemoryStream(128);
            private readonly byte[] _b = new byte[8];
            public static void PutInt(byte[] b, int o, int v) { b[o] = (byte)(v >> 24); b[o + 1] = (byte)(v >> 16); b[o + 2] = (byte)(v >> 8); b[o + 3] = (byte)v; }
            public void Int(int v) { PutInt(_b, 0, v); _ms.Write(_b, 0, 4); }
            public void Long(long v) { Int((int)(v >> 32)); Int((int)v); }
            public void Bool(bool v) => _ms.WriteByte(v ? (byte)1 : (byte)0);
            public void Buffer(byte[] v) { Int(v.Length); _ms.Write(v, 0, v.Length); }
            public void String(string v) => Buffer(Encoding.UTF8.GetBytes(v));
            public byte[] ToArray() => _ms.ToArray();
        }

        private sealed class JuteReader
        {
            private readonly byte[] _b;
            private int _p;
            public JuteReader(byte[] b) { _b = b; }
            public int Int() { int v = (_b[_p] << 24) | (_b[_p + 1] << 16) | (_b[_p + 2] << 8) | _b[_p + 3]; _p += 4; return v; }
            public long Long() { long hi = (uint)Int(); long lo = (uint)Int(); return (hi << 32) | lo; }
        }
    }
}
