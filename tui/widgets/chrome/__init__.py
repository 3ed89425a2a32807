"""What frames every screen: the title bar and the key bar."""
