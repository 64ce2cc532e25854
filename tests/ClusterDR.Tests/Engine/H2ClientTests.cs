using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using ClusterDR.Tests.Fixtures;
using ClusterDR.Transport;
using Xunit;

namespace ClusterDR.Tests.Engine
{
    /// <summary>
    /// ClusterDR's own HTTP/2 client (Transport/H2Connection, H2Call) against an in-process h2c peer that is not etcd
    /// (<see cref="H2cTestServer"/>): what goes on the wire, what comes back, and how a misbehaving server ends a call.
    /// etcd's gRPC snapshot over the same client is proven against real etcd in the Etcd tests.
    /// </summary>
    public sealed class H2ClientTests
    {
        private static readonly KeyValuePair<string, string>[] NoHeaders = new KeyValuePair<string, string>[0];

        private static H2Call Start(H2cTestServer server, string method, string path, byte[] body, IEnumerable<KeyValuePair<string, string>> headers = null, CancellationToken ct = default) =>
            H2Call.Start(H2Connection.OpenPlain(server.Uri, ct), method, server.Uri.Authority, path, headers ?? NoHeaders, body, ct);

        private static string ReadAll(H2Call call)
        {
            using var text = new StreamReader(call.Body, Encoding.ASCII);
            return text.ReadToEnd();
        }

        private static void Finish(H2cTestServer server) => Assert.True(server.Done.Wait(TimeSpan.FromSeconds(20)), "the server script did not finish");

        [Fact]
        public void SendsMethodPathAuthorityHeadersAndBodyAndReadsDataUpToTheTrailers()
        {
            H2cTestServer.Request seen = null;
            List<H2cTestServer.Frame> after = null;
            using var server = new H2cTestServer(s =>
            {
                seen = s.ReadRequest();
                s.Settings();
                s.Headers(false, (":status", "200"), ("content-type", "text/plain"));
                s.Data("hello ");
                s.Data("wor", padding: 5);
                s.Data("ld");
                s.Headers(true, ("x-checksum", "abc"));
                after = s.ReadToEnd();
            });
            string text;
            using (var call = Start(server, "POST", "/echo?x=1", Encoding.ASCII.GetBytes("ping"),
                new[] { new KeyValuePair<string, string>("content-type", "application/octet-stream"), new KeyValuePair<string, string>("x-test", "yes") }))
            {
                text = ReadAll(call);
                Assert.True(call.Ended);
                Assert.True(call.HadData);
                Assert.Equal(2, call.HeaderBlocks);
            }
            Finish(server);

            Assert.Equal("hello world", text);
            Assert.Equal(new[] { ":method", ":scheme", ":path", ":authority", "content-type", "x-test" }, seen.Headers.Select(h => h.Key));
            Assert.Equal(("POST", "http", "/echo?x=1", server.Uri.Authority), (seen[":method"], seen[":scheme"], seen[":path"], seen[":authority"]));
            Assert.Equal(("application/octet-stream", "yes"), (seen["content-type"], seen["x-test"]));
            Assert.Equal("ping", Encoding.ASCII.GetString(seen.Body));
            Assert.Equal(0x4, seen.HeadersFlags); // END_HEADERS; END_STREAM comes with the body
            // No server push; both windows opened to 2^31−1.
            Assert.Equal(0u, seen.Settings[2]);
            Assert.Equal((uint)int.MaxValue, seen.Settings[4]);
            Assert.Equal(int.MaxValue - 65535, seen.ConnectionWindowIncrement);
            // The server's SETTINGS was acknowledged.
            Assert.Contains(after, f => f.Type == 4 && f.Flags == 1);
        }

        [Fact]
        public void AGetWithoutBodyEndsTheStreamOnItsHeadersAndAnAnswerWithoutDataReadsEmpty()
        {
            H2cTestServer.Request seen = null;
            using var server = new H2cTestServer(s =>
            {
                seen = s.ReadRequest();
                s.Headers(true, (":status", "204"));
                s.ReadToEnd();
            });
            using (var call = Start(server, "GET", "/health", new byte[0]))
            {
                Assert.Equal("", ReadAll(call));
                Assert.True(call.Ended);
                Assert.False(call.HadData);
                Assert.Equal(1, call.HeaderBlocks);
            }
            Finish(server);
            Assert.Equal(0x5, seen.HeadersFlags); // END_HEADERS | END_STREAM
            Assert.Equal("GET", seen[":method"]);
            Assert.Empty(seen.DataFrameSizes);
        }

        [Fact]
        public void ABodyGoesInFramesTheServerAcceptsAndOneBeyondTheFirstWindowIsRefused()
        {
            var body = Enumerable.Range(0, 40000).Select(i => (byte)i).ToArray();
            H2cTestServer.Request seen = null;
            using var server = new H2cTestServer(s =>
            {
                seen = s.ReadRequest();
                s.Headers(false, (":status", "200"));
                s.Data("ok", endStream: true);
                s.ReadToEnd();
            });
            using (var call = Start(server, "PUT", "/blob", body)) Assert.Equal("ok", ReadAll(call));
            Finish(server);
            Assert.Equal("PUT", seen[":method"]);
            Assert.Equal(body, seen.Body);
            Assert.All(seen.DataFrameSizes, n => Assert.True(n <= 16384));

            Assert.Throws<ArgumentException>(() => H2Call.Start(null, "PUT", "x", "/", NoHeaders, new byte[65536], CancellationToken.None));
        }

        [Fact]
        public void APingIsAnsweredWithItsPayload()
        {
            var payload = new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 };
            List<H2cTestServer.Frame> after = null;
            using var server = new H2cTestServer(s =>
            {
                s.ReadRequest();
                s.Write(6, 0, 0, payload);
                s.Headers(false, (":status", "200"));
                s.Data("x", endStream: true);
                after = s.ReadToEnd();
            });
            using (var call = Start(server, "GET", "/", new byte[0])) Assert.Equal("x", ReadAll(call));
            Finish(server);
            var pong = Assert.Single(after, f => f.Type == 6);
            Assert.Equal(1, pong.Flags); // ACK
            Assert.Equal(payload, pong.Payload);
        }

        [Theory]
        [InlineData("rst", "the server reset the stream (HTTP/2 error 8)")]
        [InlineData("goaway", "HTTP/2 GOAWAY, error 2")]
        [InlineData("cut", "the server closed the connection before the response ended")]
        public void AServerThatEndsTheCallEarlyIsAnIOErrorThatSaysHow(string how, string message)
        {
            using var server = new H2cTestServer(s =>
            {
                s.ReadRequest();
                s.Headers(false, (":status", "200"));
                s.Data("part");
                if (how == "rst") s.Write(3, 0, 1, new byte[] { 0, 0, 0, 8 });
                if (how == "goaway") s.Write(7, 0, 0, new byte[] { 0, 0, 0, 1, 0, 0, 0, 2 });
                s.Cut();
            });
            using var call = Start(server, "GET", "/", new byte[0]);
            var buf = new byte[4];
            Assert.Equal(4, call.Body.Read(buf, 0, 4));
            Assert.True(call.HadData);
            var ex = Assert.Throws<IOException>(() => ReadAll(call));
            Assert.Contains(message, ex.Message);
            Finish(server);
        }

        [Fact]
        public void CancellingClosesTheSocketUnderABlockedRead()
        {
            var release = new ManualResetEventSlim();
            using var server = new H2cTestServer(s =>
            {
                s.ReadRequest();
                s.Headers(false, (":status", "200"));
                release.Wait(TimeSpan.FromSeconds(20));
            });
            using var cts = new CancellationTokenSource();
            using var call = Start(server, "GET", "/", new byte[0], ct: cts.Token);
            cts.CancelAfter(200);
            var ex = Record.Exception(() => ReadAll(call));
            release.Set();
            Assert.True(ex is IOException || ex is ObjectDisposedException, ex?.ToString() ?? "the read returned");
            Finish(server);
        }
    }
}
