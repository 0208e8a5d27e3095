-- Example data of the `api` service's previews: invented, small, and the same in every preview.

INSERT INTO django_migrations (app, name, applied) VALUES
    ('catalog', '0001_initial', '2026-01-05 09:00:00+00'),
    ('catalog', '0002_book_price_cents', '2026-02-11 14:30:00+00');

INSERT INTO catalog_author (id, name, country) VALUES
    (1, 'Ada Quillfeather', 'GB'),
    (2, 'Bruno Salvatierra', 'ES'),
    (3, 'Chiyo Nakahara', 'JP');

INSERT INTO catalog_book (title, isbn, price_cents, published_on, author_id) VALUES
    ('The Lighthouse Ledger', '9780000000011', 1899, '2019-03-14', 1),
    ('Tea at the Observatory', '9780000000028', 1450, '2021-09-02', 1),
    ('Mapas de Sal', '9780000000035', 2200, '2018-05-20', 2),
    ('The Quiet Compiler', '9780000000042', 3100, '2023-11-30', 3);

-- Explicit ids above: move the identity past them so that the app's inserts do not collide.
SELECT setval(pg_get_serial_sequence('catalog_author', 'id'), (SELECT max(id) FROM catalog_author));
