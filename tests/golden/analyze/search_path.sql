-- unqualified lineitem resolves through search_path to tpch; orders to public
SELECT count(*) FROM lineitem l JOIN tpch.orders o ON o.o_orderkey = l.l_orderkey
WHERE l.l_shipmode IN ('AIR', 'MAIL')
