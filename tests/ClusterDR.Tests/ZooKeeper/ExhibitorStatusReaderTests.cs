using System;
using System.Net;
using System.Threading;
using ClusterDR.ZooKeeper;
using ClusterDR.Tests.Fixtures;
using Xunit;

namespace ClusterDR.Tests.ZooKeeper
{
    /// <summary>Exhibitor cannot run here: a loopback HTTP server answers with Exhibitor's documented status shape.</summary>
    public sealed class ExhibitorStatusReaderTests
    {
        private static (HttpListener, Uri) Serve(Func<HttpListenerRequest, (int Code, string Body)> answer) => LoopbackHttp.Serve(answer);

        private const string Serving =
            "[{\"code\":3,\"description\":\"serving\",\"hostname\":\"10.0.0.1\",\"isLeader\":false}," +
            "{\"code\":3,\"description\":\"serving\",\"hostname\":\"10.0.0.2\",\"isLeader\":true}," +
            "{\"code\":3,\"description\":\"serving\",\"hostname\":\"10.0.0.3\",\"isLeader\":false}]";

        [Fact]
        public void ReadsServersLeaderAndSendsTheAcsToken()
        {
            string auth = null, path = null;
            var (l, uri) = Serve(r => { auth = r.Headers["Authorization"]; path = r.Url!.AbsolutePath; return (200, Serving); });
            using (l)
            {
                var s = ExhibitorStatusReader.Read(uri, "tok123", CancellationToken.None);
                Assert.Equal((3, 3, "10.0.0.2"), (s.MemberCount, s.HealthyCount, s.Leader));
                Assert.Null(ExhibitorStatusReader.Problem(s));
                Assert.Equal("token=tok123", auth);
                Assert.Equal("/exhibitor/v1/cluster/status", path);
            }
        }

        [Fact]
        public void ANodeThatDoesNotServeIsAProblem()
        {
            var (l, uri) = Serve(_ => (200, Serving.Replace("{\"code\":3,\"description\":\"serving\",\"hostname\":\"10.0.0.3\"", "{\"code\":1,\"description\":\"down\",\"hostname\":\"10.0.0.3\"")));
            using (l)
            {
                var s = ExhibitorStatusReader.Read(uri, null, CancellationToken.None);
                Assert.Equal(2, s.HealthyCount);
                Assert.Contains("10.0.0.3 (down)", ExhibitorStatusReader.Problem(s));
            }
        }

        [Theory]
        [InlineData(401, "Unauthorized")]
        [InlineData(403, "Forbidden")]
        public void AuthFailuresHaveTheirOwnErrorIds(int code, string id)
        {
            var (l, uri) = Serve(_ => (code, "{}"));
            using (l) Assert.Equal(id, Assert.Throws<ClusterDrException>(() => ExhibitorStatusReader.Read(uri, "t", CancellationToken.None)).ErrorId);
        }

        [Theory]
        [InlineData("https://dcos.example.com", "https://dcos.example.com/exhibitor/exhibitor/v1/cluster/status")]
        [InlineData("http://10.0.0.1:8181/", "http://10.0.0.1:8181/exhibitor/v1/cluster/status")]
        [InlineData("https://m1/exhibitor/exhibitor/v1/cluster/status", "https://m1/exhibitor/exhibitor/v1/cluster/status")]
        public void FindsTheStatusUrl(string given, string expected) =>
            Assert.Equal(expected, ExhibitorStatusReader.StatusUri(new Uri(given)).ToString());
    }
}
