"""What `make run` loads so a newcomer can browse at once: sellers, their catalogs, a buyer
and an operator. Pure data; dev/demo.py loads it through the public API."""

from __future__ import annotations

# The passwords meet the password rules (chalicelib/core/passwords.py): none contains the
# name in its email address. The operator's TOTP key is fixed and public, like everything
# here: `agora operators otp --email operator@agora.example --local` prints its code.
OPERATOR = {"email": "operator@agora.example", "name": "Olga Operator", "password": "steady-lantern-demo-7",
            "totp_secret": "AGORALOCALDEMOOPERATORKEYNOTREAL"}
BUYER = {"email": "buyer@agora.example", "name": "Ben Buyer", "password": "paper-kite-demo-42"}

# What the marketplace earns (PUT /v1/admin/fees, as the operator): 10 % of every order line plus
# a fixed 0.25 (EUR) / 0.30 (CHF), with books at 7 % (a category override). Without a schedule
# the marketplace earns nothing.
FEES = {"percent_bp": 1_000, "currencies": {"EUR": {"fixed": 25}, "CHF": {"fixed": 30}}}
CATEGORY_FEES = {"books": {"percent_bp": 700, "currencies": {"EUR": {"fixed": 25}}}}

# Every demo seller's default shipping profile (POST /v1/seller/shipping-profiles): at home 4.90
# and 1.00 for each further item, express 9.90 the next day, free from 50.00; 9.90 to the rest of
# the EU; nowhere else. Amounts in the seller's currency. Cart and checkout charge it once they
# use profiles (issue 13); until then it only shows in the seller's API.
EU_COUNTRIES = ["AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT",
                "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"]
SHIPPING = {"name": "Parcel", "handling_days": 1, "home": {"standard": 490, "per_extra_item": 100, "express": 990,
                                                           "free_from": 5_000},
            "eu": {"standard": 990}}

# (seller application, products as (title, brand, category, price in cents, stock, attributes))
SELLERS: list[tuple[dict[str, str], list[tuple[str, str, str, int, int, dict[str, str]]]]] = [
    (
        {"business_name": "Nordwind Outdoor GmbH", "email": "shop@nordwind.example", "country": "DE",
         "default_currency": "EUR", "password": "nordwind-demo-password", "vat_id": "DE123456789"},
        [
            ("Trail runner shoe Alpina", "Nordwind", "fashion/shoes", 11_990, 25, {"colour": "blue", "size": "42"}),
            ("Trail runner shoe Alpina", "Nordwind", "fashion/shoes", 11_990, 3, {"colour": "red", "size": "39"}),
            ("Hiking boot Gipfel GTX", "Nordwind", "fashion/shoes", 18_900, 12, {"colour": "brown", "size": "44"}),
            ("Rain jacket Sturm", "Nordwind", "fashion/clothing", 14_950, 18, {"colour": "yellow", "size": "M"}),
            ("Merino base layer", "Nordwind", "fashion/clothing", 6_990, 40, {"colour": "black", "size": "L"}),
            ("Kids' rain trousers Pfütze", "Nordwind", "fashion/kids", 3_490, 30, {"size": "116"}),
            ("Two-person tent Biwak", "Nordwind", "sports/outdoor", 24_900, 6, {"weight": "1.9 kg"}),
            ("Sleeping bag Daune -5", "Nordwind", "sports/outdoor", 17_990, 9, {"comfort": "-5 °C"}),
            ("Trekking poles carbon", "Nordwind", "sports/outdoor", 8_990, 0, {"length": "110-135 cm"}),
            ("Headlamp 400 lm", "Lumix Outdoor", "sports/outdoor", 3_990, 55, {}),
            ("Water bottle 1 l steel", "Nordwind", "sports/fitness", 2_490, 80, {"colour": "green"}),
            ("Gravel bike Schotter 2", "Velo Nord", "sports/bikes", 149_900, 2, {"frame": "56"}),
        ],
    ),
    (
        {"business_name": "Kaffeerösterei Bohne & Co", "email": "hallo@bohne.example", "country": "DE",
         "default_currency": "EUR", "password": "bohne-demo-password-1"},
        [
            ("Espresso blend Napoli 1 kg", "Bohne & Co", "food/beverages", 2_490, 120, {"roast": "dark"}),
            ("Filter coffee Äthiopien 500 g", "Bohne & Co", "food/beverages", 1_390, 60, {"roast": "light"}),
            ("Decaf Kolumbien 500 g", "Bohne & Co", "food/beverages", 1_290, 0, {"roast": "medium"}),
            ("Green tea Sencha 100 g", "Teehaus", "food/beverages", 890, 45, {}),
            ("Hand grinder Mahlwerk", "Bohne & Co", "home/kitchen", 7_990, 14, {"burr": "steel"}),
            ("Pour-over kettle 1 l", "Bohne & Co", "home/kitchen", 4_990, 20, {"colour": "black"}),
            ("Espresso cups set of 4", "Porzellan Weiß", "home/kitchen", 3_290, 33, {}),
            ("Chocolate 70 % Ecuador", "Kakaowerk", "food/groceries", 450, 200, {}),
            ("Coffee syrup vanilla", "Bohne & Co", "food/groceries", 690, 75, {}),
            ("Riesling trocken 2023", "Weingut Sonne", "food/wine-spirits", 1_190, 48, {"volume": "0.75 l"}),
        ],
    ),
    (
        {"business_name": "Seitenweise Buchhandlung", "email": "post@seitenweise.example", "country": "AT",
         "default_currency": "EUR", "password": "seitenweise-demo-pass"},
        [
            ("Der Bergroman", "Alpenverlag", "books/fiction", 2_200, 15, {"language": "de"}),
            ("The Quiet Harbour", "Northside Press", "books/fiction", 1_899, 9, {"language": "en"}),
            ("Kochen mit Kräutern", "Gartenverlag", "books/non-fiction", 2_990, 7, {"language": "de"}),
            ("A Short History of Coffee", "Northside Press", "books/non-fiction", 2_450, 11, {"language": "en"}),
            ("Der kleine Igel", "Kinderbuch Wien", "books/children", 1_490, 25, {"age": "3+"}),
            ("Sternenreise Puzzle 1000", "Puzzlewerk", "toys/games", 1_990, 16, {"pieces": "1000"}),
            ("Holzbausteine 50 Stück", "Holzwerk", "toys/baby", 2_990, 8, {"age": "1+"}),
            ("Brettspiel Handelsweg", "Spielwerk", "toys/games", 3_990, 0, {"players": "2-5"}),
        ],
    ),
    (
        {"business_name": "Klangraum Audio AG", "email": "info@klangraum.example", "country": "CH",
         "default_currency": "CHF", "password": "klangraum-demo-pass"},
        [
            ("Studio headphones K-300", "Klangraum", "electronics/audio", 19_900, 22, {"colour": "black"}),
            ("Bookshelf speakers pair", "Klangraum", "electronics/audio", 44_900, 5, {"finish": "walnut"}),
            ("Portable speaker Mini", "Klangraum", "electronics/audio", 7_900, 40, {"colour": "grey"}),
            ("USB-C DAC", "Klangraum", "electronics/computers", 12_900, 13, {}),
            ("Smartphone stand alu", "Klangraum", "electronics/phones", 2_900, 70, {}),
            ("Desk lamp Licht", "Lichtwerk", "home/decor", 8_900, 17, {"colour": "white"}),
            ("Vinyl record cleaner", "Klangraum", "electronics/audio", 3_900, 0, {}),
        ],
    ),
]
