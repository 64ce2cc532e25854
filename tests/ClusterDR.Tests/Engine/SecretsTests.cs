using Xunit;

namespace ClusterDR.Tests.Engine
{
    public sealed class SecretsTests
    {
        [Theory]
        [InlineData("SWMKEY-1-abc+/=")] [InlineData("")] [InlineData("ünïcödé ✓")]
        public void ASecretComesBackAsTheSameTextAndIsReadOnly(string text)
        {
            var secure = Secrets.Secure(text);
            Assert.True(secure.IsReadOnly());
            Assert.Equal(text.Length, secure.Length);
            Assert.Equal(text, Secrets.Plain(secure));
        }

        [Fact]
        public void NullStaysNull()
        {
            Assert.Null(Secrets.Plain(null));
            Assert.Null(Secrets.Secure(null));
        }
    }
}
