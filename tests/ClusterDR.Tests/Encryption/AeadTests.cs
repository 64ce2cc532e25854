using System.Linq;
using ClusterDR.Encryption;
using Xunit;

namespace ClusterDR.Tests.Encryption
{
    /// <summary>The runtime's ChaCha20-Poly1305 (PowerShell 7) and BouncyCastle's (Windows PowerShell 5.1) seal alike.</summary>
    public sealed class AeadTests
    {
        [Theory]
        [InlineData(0)]
        [InlineData(1)]
        [InlineData(65536)]
        public void TheRuntimesAndBouncyCastlesAgreeAndEachOpensTheOthers(int length)
        {
            Assert.True(RuntimeAead.Available, "this test runs on .NET 10, which has ChaCha20Poly1305");
            var key = AgePrimitives.Random(32);
            var nonce = AgePayload.ChunkNonce(7, last: true);
            var plain = AgePrimitives.Random(length);
            var a = new byte[length + 16];
            var b = new byte[length + 16];
            Assert.True(RuntimeAead.Seal(true, key, nonce, plain, 0, length, a, 0));
            Assert.True(AgePrimitives.SealManaged(true, key, nonce, plain, 0, length, b, 0));
            Assert.Equal(a, b);
            var back1 = new byte[length];
            var back2 = new byte[length];
            Assert.True(RuntimeAead.Seal(false, key, nonce, b, 0, b.Length, back1, 0));
            Assert.True(AgePrimitives.SealManaged(false, key, nonce, a, 0, a.Length, back2, 0));
            Assert.Equal(plain, back1);
            Assert.Equal(plain, back2);
            a[a.Length - 1] ^= 1;
            Assert.False(RuntimeAead.Seal(false, key, nonce, a, 0, a.Length, back1, 0));
            Assert.False(AgePrimitives.SealManaged(false, key, nonce, a, 0, a.Length, back2, 0));
            Assert.False(RuntimeAead.Seal(false, key, AgePayload.ChunkNonce(7, last: false), b, 0, b.Length, back1, 0));
        }
    }
}
